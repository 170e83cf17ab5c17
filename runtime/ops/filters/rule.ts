/** The shape every filter rule implements. */

/**
 * A document-level quality rule.
 *
 * `check` returns the reason a document fails, such as `gopher_quality.word_count`,
 * or `undefined` when it passes. The reason's prefix is the rule name.
 */
export interface FilterRule {
  readonly name: string
  readonly check: (text: string) => string | undefined
  /**
   * Present on rules that also edit the documents they keep (C4 removes lines).
   * Returns the failing reason, or the text to keep in place of the input.
   */
  readonly apply?: (text: string) => { readonly reason: string } | { readonly text: string }
}
