/**
 * Glob matching shared by the local and S3 implementations.
 *
 * Patterns match whole URIs (or absolute paths) with `/` as the separator:
 * `*` matches within one segment, `**` matches across segments (`a/**` + `/b` also
 * matches `a/b`), `?` matches one character other than `/`, `{a,b}` matches either
 * alternative (alternatives may nest), and `[abc]` / `[!abc]` match a character class.
 * A backslash escapes the next character.
 */

const GLOB_CHARS = /[*?[{\\]/

/** Reports whether a string contains glob syntax. */
export const hasGlobSyntax = (pattern: string): boolean => GLOB_CHARS.test(pattern)

/**
 * Returns the part of a pattern before the first segment that contains glob syntax,
 * ending with `/`. Listing this prefix finds every candidate match.
 */
export const literalPrefix = (pattern: string): string => {
  const index = pattern.search(GLOB_CHARS)
  if (index < 0) return pattern
  const slash = pattern.lastIndexOf("/", index)
  return slash < 0 ? "" : pattern.slice(0, slash + 1)
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")

/** Finds the index of the `}` that closes the `{` at `open`, or -1. */
const closingBrace = (pattern: string, open: number): number => {
  let depth = 0
  for (let i = open; i < pattern.length; i++) {
    const char = pattern[i]
    if (char === "\\") {
      i++
    } else if (char === "{") {
      depth++
    } else if (char === "}") {
      depth--
      if (depth === 0) return i
    }
  }
  return -1
}

/** Splits the body of a `{...}` group on top-level commas. */
const splitAlternatives = (body: string): Array<string> => {
  const parts: Array<string> = []
  let depth = 0
  let start = 0
  for (let i = 0; i < body.length; i++) {
    const char = body[i]
    if (char === "\\") {
      i++
    } else if (char === "{") {
      depth++
    } else if (char === "}") {
      depth--
    } else if (char === "," && depth === 0) {
      parts.push(body.slice(start, i))
      start = i + 1
    }
  }
  parts.push(body.slice(start))
  return parts
}

const translate = (pattern: string): string => {
  let out = ""
  let i = 0
  while (i < pattern.length) {
    const char = pattern[i]
    if (char === "\\" && i + 1 < pattern.length) {
      out += escapeRegExp(pattern[i + 1])
      i += 2
    } else if (char === "*" && pattern[i + 1] === "*") {
      // `**/` may match zero directories, so `a/**/b` also matches `a/b`.
      if (pattern[i + 2] === "/") {
        out += "(?:.*/)?"
        i += 3
      } else {
        out += ".*"
        i += 2
      }
    } else if (char === "*") {
      out += "[^/]*"
      i++
    } else if (char === "?") {
      out += "[^/]"
      i++
    } else if (char === "[") {
      const close = pattern.indexOf("]", i + 2)
      if (close < 0) {
        out += "\\["
        i++
      } else {
        let body = pattern.slice(i + 1, close)
        const negate = body.startsWith("!") || body.startsWith("^")
        if (negate) body = body.slice(1)
        out += (negate ? "[^/" : "[") + body.replace(/[\\\]^]/g, "\\$&") + "]"
        i = close + 1
      }
    } else if (char === "{") {
      const close = closingBrace(pattern, i)
      if (close < 0) {
        out += "\\{"
        i++
      } else {
        const alternatives = splitAlternatives(pattern.slice(i + 1, close)).map(translate)
        out += "(?:" + alternatives.join("|") + ")"
        i = close + 1
      }
    } else {
      out += escapeRegExp(char)
      i++
    }
  }
  return out
}

/** Compiles a glob pattern into a regular expression that matches whole strings. */
export const globToRegExp = (pattern: string): RegExp => new RegExp("^" + translate(pattern) + "$", "u")

/** Orders listings by URI in JavaScript string order, the order both backends return. */
export const compareUris = (a: { readonly uri: string }, b: { readonly uri: string }): number => {
  if (a.uri < b.uri) return -1
  if (a.uri > b.uri) return 1
  return 0
}
