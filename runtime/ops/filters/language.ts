/**
 * A small language detector for English, German, Spanish, French, Italian, Dutch and
 * Portuguese, plus `code` and `other`.
 *
 * Each language has a profile of about 60 frequent function words (articles,
 * pronouns, prepositions, auxiliaries). A word found in k profiles adds 1/k to each of
 * them, so shared words such as "de" or "a" count little, and language-specific
 * letters (ß, ñ, ã, ç, è ...) add a smaller weight the same way. The language with the
 * largest score wins; its confidence is its share of all scores. Text whose words
 * rarely hit any profile is `other`, and text dense in code punctuation and keywords is
 * `code`. Only the first 10,000 characters are read.
 *
 * Accuracy on real data is measured by `test/ops/language.test.ts` and recorded in
 * `docs/filters.md`. It is far below a trained classifier such as fastText on short
 * text, and it cannot tell apart languages outside the list: Catalan or Galician text
 * is likely to be reported as Spanish or Portuguese.
 */
import type { LanguageCode, LanguageRuleConfig } from "./schema.ts"
import type { FilterRule } from "./rule.ts"

type NaturalLanguage = "en" | "de" | "es" | "fr" | "it" | "nl" | "pt"

const PROFILES: Record<NaturalLanguage, string> = {
  en: "the of and to in is that it was for on are with as his they be at by this have from or had not but what which were we when your can said there an she he has would their will been you i my me who do does did its our them than then these those how about into",
  de: "der die das und ist nicht ein eine einen ich sie es zu den dem des mit sich auf für von auch wird werden wurde war hat haben sind bei aus nach wie noch aber oder wenn dass im zum zur über nur kann diese dieser er wir uns ihr mich mir schon sehr hier was wo kein keine ihm ihn",
  es: "el la los las de que y en un una es por con para no se su sus al del lo como más pero muy está están son fue ha han hay yo tú él ella ellos este esta esto ese eso cuando porque también sobre entre hasta sin donde qué mi me te le les ya todo",
  fr: "le la les de des du et est un une que qui en dans pour pas ne sur au aux avec ce cette ces il elle ils je nous vous son sa ses mais ou par plus été être avoir a ont sont était comme tout leur y se on lui même très bien où aussi mon ma l d qu j n c",
  it: "il lo la i gli le di che e è un una per non in con del della dei delle al alla nel nella si sono ha hanno anche come ma più questo questa quello se mi ti ci io lui lei noi voi loro era essere molto perché quando tutto dove cosa sul sulla da dal dalla l",
  nl: "de het een en van ik te dat die in is niet je op met zijn voor er maar om hij ze wat als aan ook bij nog door naar uit dan of wel kan wordt worden werd zij we wij heb heeft hebben was waren geen deze dit veel zo over mijn u hun toch",
  pt: "o a os as de do da dos das e que em no na nos nas um uma para com não por se mais mas como é foi são ao aos pela pelo seu sua eu ele ela nós eles isso isto este esta muito também já quando há está estão ser ter tem onde você meu minha"
}

const LETTER_HINTS: Record<string, ReadonlyArray<NaturalLanguage>> = {
  "ß": ["de"], "ä": ["de"], "ö": ["de"], "ü": ["de"],
  "ñ": ["es"], "¿": ["es"], "¡": ["es"],
  "ã": ["pt"], "õ": ["pt"], "ç": ["pt", "fr"],
  "à": ["fr", "it", "pt"], "è": ["fr", "it"], "ù": ["fr", "it"], "ì": ["it"], "ò": ["it"],
  "ê": ["fr", "pt"], "ô": ["fr", "pt"], "â": ["fr", "pt"], "î": ["fr"], "û": ["fr"], "ë": ["fr", "nl"], "ï": ["fr", "nl"],
  "á": ["es", "pt"], "í": ["es", "pt"], "ó": ["es", "pt"], "ú": ["es", "pt"]
}
const LETTER_WEIGHT = 0.3

const LANGUAGES = Object.keys(PROFILES) as Array<NaturalLanguage>

// Word to per-language weight, 1/k for a word in k profiles.
const WORD_WEIGHTS = (() => {
  const owners = new Map<string, Array<number>>()
  LANGUAGES.forEach((language, index) => {
    for (const word of new Set(PROFILES[language].split(" "))) {
      const list = owners.get(word) ?? []
      list.push(index)
      owners.set(word, list)
    }
  })
  const weights = new Map<string, ReadonlyArray<number>>()
  for (const [word, indices] of owners) weights.set(word, indices)
  return weights
})()

const CODE_KEYWORDS = new Set([
  "function", "return", "def", "import", "const", "let", "var", "class", "public", "private", "static",
  "void", "int", "struct", "fn", "impl", "package", "include", "self", "null", "nil", "elif", "lambda",
  "async", "await", "func", "namespace", "typedef", "println", "printf", "std"
])
const CODE_SYMBOLS = /[{}()[\];=_]/g
const BLOCK_SYMBOLS = /[{};]/g
const WORD = /\p{L}+/gu
const SAMPLE_CHARS = 10_000

export interface LanguageGuess {
  readonly language: LanguageCode
  /** Share of the winning language in all profile scores, in [0, 1]; 1 for `code`, 0 for `other`. */
  readonly confidence: number
}

/** Guesses the language of a text from function-word and letter frequencies. */
export const detectLanguage = (input: string): LanguageGuess => {
  const text = input.length > SAMPLE_CHARS ? input.slice(0, SAMPLE_CHARS) : input
  const words = text.toLowerCase().match(WORD) ?? []
  if (words.length === 0) return { language: "other", confidence: 0 }

  const scores = new Float64Array(LANGUAGES.length)
  let hits = 0
  let keywords = 0
  for (const word of words) {
    const owners = WORD_WEIGHTS.get(word)
    if (owners !== undefined) {
      hits++
      for (const index of owners) scores[index] += 1 / owners.length
    }
    if (CODE_KEYWORDS.has(word)) keywords++
  }

  // Code needs both: punctuation density and either keywords or block punctuation,
  // so wiki headings ("= = History = =") and tables stay prose.
  const symbolDensity = (text.match(CODE_SYMBOLS)?.length ?? 0) / text.length
  const blockDensity = (text.match(BLOCK_SYMBOLS)?.length ?? 0) / text.length
  const keywordRate = keywords / words.length
  if (symbolDensity > 0.03 && (keywordRate > 0.02 || blockDensity > 0.01)) return { language: "code", confidence: 1 }

  for (const char of text.toLowerCase()) {
    const owners = LETTER_HINTS[char]
    if (owners === undefined) continue
    for (const language of owners) scores[LANGUAGES.indexOf(language)] += LETTER_WEIGHT / owners.length
  }

  // Prose in these languages has 30-50% function words; below 15% the text is
  // something else (another language, a list of names, tables).
  if (words.length >= 8 && hits / words.length < 0.15) return { language: "other", confidence: 0 }
  let best = -1
  let total = 0
  for (let i = 0; i < scores.length; i++) {
    total += scores[i]
    if (best < 0 || scores[i] > scores[best]) best = i
  }
  if (total === 0) return { language: "other", confidence: 0 }
  return { language: LANGUAGES[best], confidence: scores[best] / total }
}

export const LANGUAGE_DEFAULTS = {
  languages: ["en"] as ReadonlyArray<LanguageCode>,
  minConfidence: 0.5
}

/** Builds the language rule; reasons are `language.<detected language>`, such as `language.de`. */
export const makeLanguageRule = (config: Omit<LanguageRuleConfig, "rule"> = {}): FilterRule => {
  const options = { ...LANGUAGE_DEFAULTS, ...config }
  const allowed = new Set<LanguageCode>(options.languages)
  const check = (text: string): string | undefined => {
    const guess = detectLanguage(text)
    if (!allowed.has(guess.language)) return `language.${guess.language}`
    if (guess.confidence < options.minConfidence && guess.language !== "other") return "language.low_confidence"
    return undefined
  }
  return { name: "language", check }
}
