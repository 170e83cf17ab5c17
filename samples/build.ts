// Builds the shipped sample data under samples/ from the real public files in a data snapshot
// (default /work/shared/data, or MIXWRIGHT_DATA). Every output is either a byte-for-byte copy or
// a deterministic extraction that SOURCE.md next to it describes, so rerunning the script on the
// same snapshot reproduces the same bytes.
//
//   npx node samples/build.ts [--data DIR]
//
// Writes samples/<slug>/..., samples/<slug>/SOURCE.md, samples/index.json and samples/README.md.
import { createHash } from "node:crypto"
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { gunzipSync } from "node:zlib"
import { parquetWriteBuffer } from "hyparquet-writer"
import { Tiktoken } from "js-tiktoken/lite"
import cl100k from "js-tiktoken/ranks/cl100k_base"

const projectRoot = join(import.meta.dirname, "..")
const samplesDir = join(projectRoot, "samples")
const dataArg = process.argv.indexOf("--data")
const dataRoot = dataArg > 0 ? process.argv[dataArg + 1]! : (process.env.MIXWRIGHT_DATA ?? "/work/shared/data")

const encoder = new Tiktoken(cl100k)

interface CatalogRow {
  readonly repo: string
  readonly repoPath: string
  readonly commit: string
  readonly license: string
}

// catalog.tsv columns: file, kind, repo, repo_path, commit, license, bytes, rows, fields, notes.
function readCatalog(): Map<string, CatalogRow> {
  const rows = new Map<string, CatalogRow>()
  const lines = readFileSync(join(dataRoot, "catalog.tsv"), "utf8").split("\n").slice(1)
  for (const line of lines) {
    const cells = line.split("\t")
    if (cells.length < 6 || rows.has(cells[0]!)) continue
    rows.set(cells[0]!, { repo: cells[2]!, repoPath: cells[3]!, commit: cells[4]!, license: cells[5]! })
  }
  return rows
}

const catalog = readCatalog()

function origin(file: string): CatalogRow {
  const row = catalog.get(file)
  if (row === undefined) throw new Error(`${file}: not listed in ${join(dataRoot, "catalog.tsv")}`)
  return row
}

type Format = "jsonl" | "parquet"
type Category =
  | "web" | "academic" | "books" | "code" | "social" | "law" | "math" | "wiki" | "instruction"
  | "sft" | "dpo" | "countdown"

interface Output {
  readonly file: string // relative to samples/<slug>/
  readonly format: Format
  readonly fields: Record<string, string>
  readonly sources: ReadonlyArray<string> // files relative to the data root
  readonly extraction: string // "byte-for-byte copy" or the rule that produced the file
  readonly origins?: ReadonlyArray<CatalogRow> // replaces the catalog lookup of `sources` when set
  readonly license: string
  readonly write: (dest: string) => void
}

interface Row {
  readonly row: string
  readonly slug: string
  readonly category: Category
  readonly dataset: string // the upstream dataset the report names for this row
  readonly language: string
  readonly rationale: string // the reason this sample replaces the row's dataset
  readonly outputs: ReadonlyArray<Output>
}

const dataPath = (file: string) => join(dataRoot, file)
const readText = (file: string) => {
  const bytes = readFileSync(dataPath(file))
  return (file.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8")
}
const readJsonl = (file: string): Array<Record<string, unknown>> =>
  readText(file).split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line))
const writeJsonl = (dest: string, records: ReadonlyArray<unknown>) =>
  writeFileSync(dest, records.map((record) => JSON.stringify(record)).join("\n") + "\n")

function copy(file: string, name: string, license: string, fields: Record<string, string> = { text: "text" }): Output {
  const format: Format = file.endsWith(".parquet") ? "parquet" : "jsonl"
  return {
    file: name, format, fields, sources: [file], license,
    extraction: "byte-for-byte copy",
    write: (dest) => copyFileSync(dataPath(file), dest),
  }
}

// Splits plain text into documents of at least `targetChars` characters, cutting at a blank line
// when there is one and at any line end once a document reaches four times the target.
function chunkText(text: string, targetChars: number): Array<string> {
  const chunks: Array<string> = []
  let current: Array<string> = []
  let length = 0
  for (const line of text.replace(/\r\n/g, "\n").split("\n")) {
    current.push(line)
    length += line.length + 1
    const atBlank = line.trim() === ""
    if ((length >= targetChars && atBlank) || length >= 4 * targetChars) {
      const chunk = current.join("\n").trim()
      if (chunk !== "") chunks.push(chunk)
      current = []
      length = 0
    }
  }
  const rest = current.join("\n").trim()
  if (rest !== "") chunks.push(rest)
  return chunks
}

function textChunks(file: string, name: string, license: string, targetChars: number): Output {
  return {
    file: name, format: "jsonl", fields: { text: "text" }, sources: [file], license,
    extraction:
      `plain text split into documents of at least ${targetChars} characters (cut at the next blank line, ` +
      `or at a line end after ${4 * targetChars} characters); CRLF normalised to LF; each line of the output ` +
      "is {\"text\", \"part\"} where part is the 0-based document index",
    write: (dest) => writeJsonl(dest, chunkText(readText(file), targetChars).map((text, part) => ({ text, part }))),
  }
}

function selectLines(
  file: string, name: string, license: string, description: string,
  keep: (record: Record<string, unknown>, index: number) => boolean,
): Output {
  return {
    file: name, format: "jsonl", fields: { text: "text" }, sources: [file], license,
    extraction: `the lines of the source whose record matches: ${description}; each kept line is byte-for-byte`,
    write: (dest) => {
      const lines = readText(file).split("\n").filter((line) => line.trim() !== "")
      writeFileSync(dest, lines.filter((line, index) => keep(JSON.parse(line), index)).join("\n") + "\n")
    },
  }
}

function mapRecords(
  file: string, name: string, license: string, fields: Record<string, string>, description: string,
  map: (record: Record<string, unknown>, index: number) => Record<string, unknown> | undefined,
): Output {
  return {
    file: name, format: "jsonl", fields, sources: [file], license, extraction: description,
    write: (dest) => {
      const out: Array<Record<string, unknown>> = []
      readJsonl(file).forEach((record, index) => {
        const mapped = map(record, index)
        if (mapped !== undefined) out.push(mapped)
      })
      writeJsonl(dest, out)
    },
  }
}

// unarXive papers are routed to rows by arXiv id so no paper appears in two rows.
const unarxive = "academic/IllDepence__unarXive/doc/unarXive_data_sample.tar.gz.extracted/arXiv_src_2212_086.text.jsonl"
const unarxiveLicense =
  "per paper, in each record's `license` field (CC-BY-4.0, CC-BY-SA-4.0 or CC0-1.0); sample distributed under CC-BY-SA-4.0"
const biomedicalPapers = new Set(["arXiv:2212.11809", "arXiv:2212.11802", "arXiv:2212.11827"])
const philosophyPapers = new Set(["arXiv:2212.11807", "arXiv:2212.11764", "arXiv:2212.11780"])
const s2orcPapers = new Set([
  "arXiv:2212.11808", "arXiv:2212.11816", "arXiv:2212.11774", "arXiv:2212.11886",
  "arXiv:2212.11765", "arXiv:2212.11813", "arXiv:2212.11850", "arXiv:2212.11887",
])

// Lists one origin per repository of code/MANIFEST.jsonl with the number of files taken from it.
function codeOrigins(): Array<CatalogRow> {
  const byRepo = new Map<string, { commit: string; license: string; files: number }>()
  for (const entry of readJsonl("code/MANIFEST.jsonl")) {
    const repo = String(entry.repo)
    const seen = byRepo.get(repo)
    if (seen !== undefined && seen.commit !== entry.commit) throw new Error(`code/MANIFEST.jsonl: ${repo} has files from two commits`)
    byRepo.set(repo, { commit: String(entry.commit), license: String(entry.license), files: (seen?.files ?? 0) + 1 })
  }
  return [...byRepo].map(([repo, { commit, license, files }]) => ({ repo, repoPath: `${files} files, listed per record`, commit, license }))
}

// Follows the rank-0 reply at each level of an Open-Assistant message tree.
function bestPath(prompt: Record<string, unknown>): Array<{ role: string; content: string }> {
  const messages: Array<{ role: string; content: string }> = []
  let node: Record<string, unknown> | undefined = prompt
  while (node !== undefined) {
    messages.push({ role: node.role === "prompter" ? "user" : "assistant", content: String(node.text) })
    const replies: Array<Record<string, unknown>> = (node.replies as Array<Record<string, unknown>> | undefined) ?? []
    const ranked: Array<Record<string, unknown>> = [...replies].sort((a, b) => Number(a.rank ?? 1e9) - Number(b.rank ?? 1e9))
    node = ranked[0]
  }
  return messages
}

// Splits an HH-RLHF transcript at its last "\n\nAssistant:" turn.
function splitTranscript(transcript: string): { prompt: string; response: string } | undefined {
  const marker = "\n\nAssistant:"
  const at = transcript.lastIndexOf(marker)
  if (at < 0) return undefined
  return { prompt: transcript.slice(0, at + marker.length), response: transcript.slice(at + marker.length).trim() }
}

const pgLicense = "public domain (Project Gutenberg text; the PG license header is kept in the text)"
const udLicense = (version: string) => `CC-BY-SA-${version} (Universal Dependencies treebank; attribution + share-alike)`

const rows: ReadonlyArray<Row> = [
  {
    row: "RefinedWeb", slug: "refinedweb", category: "web", dataset: "tiiuae/falcon-refinedweb", language: "en",
    rationale: "Common Crawl English documents in the Dolma/CCNet format, gzip-compressed JSONL as web dumps ship.",
    outputs: [
      copy("webtext/allenai__dolma/tests/data/multiple_files/cc_en_head-0091.jsonl.gz", "cc_en_head-0091.jsonl.gz", "Apache-2.0 (allenai/dolma); Common Crawl derived text"),
      copy("webtext/allenai__dolma/tests/data/multiple_files/cc_en_head-0174.jsonl.gz", "cc_en_head-0174.jsonl.gz", "Apache-2.0 (allenai/dolma); Common Crawl derived text"),
    ],
  },
  {
    row: "OpenWebText2", slug: "openwebtext2", category: "web", dataset: "OpenWebText2 (The Pile)", language: "en",
    rationale: "English web pages from the DCLM Common Crawl pipeline; OpenWebText2 is likewise filtered web pages.",
    outputs: [copy("webtext/mlfoundations__dclm/data/agreement_data.jsonl", "agreement_data.jsonl", "MIT (mlfoundations/dclm); Common Crawl derived text")],
  },
  {
    row: "CulturaX EN", slug: "culturax-en", category: "web", dataset: "uonlp/CulturaX (en)", language: "en",
    rationale:
      "A Hugging Face `datasets` Parquet shard (one line tagged Oscar, one of CulturaX's two upstreams) plus English " +
      "Common Crawl documents written to Parquet, so this row exercises the Parquet reader. The shard also holds " +
      "two Chinese and one French line, which a language filter should drop.",
    outputs: [
      copy("parquet/modelscope__data-juicer/tests/format/data/structured/demo-dataset.parquet", "demo-dataset.parquet", "Apache-2.0 (modelscope/data-juicer)"),
      {
        file: "cc-en.parquet", format: "parquet", fields: { text: "text" }, license: "Apache-2.0 (modelscope/data-juicer, allenai/dolma); Common Crawl derived text",
        sources: [
          "webtext/modelscope__data-juicer/demos/data_mixture/data/redpajama-cc-2023-06-refined.jsonl",
          "webtext/allenai__dolma/tests/data/provided/documents/000.json.gz",
        ],
        extraction:
          "the `text` field of every record of both sources, in order, written with hyparquet-writer " +
          "(Snappy, one row group) as columns `text` and `source_file` (the source path)",
        write: (dest) => {
          const texts: Array<string> = []
          const files: Array<string> = []
          for (const file of [
            "webtext/modelscope__data-juicer/demos/data_mixture/data/redpajama-cc-2023-06-refined.jsonl",
            "webtext/allenai__dolma/tests/data/provided/documents/000.json.gz",
          ]) {
            for (const record of readJsonl(file)) {
              texts.push(String(record.text))
              files.push(file)
            }
          }
          const buffer = parquetWriteBuffer({
            columnData: [
              { name: "text", data: texts, type: "STRING", nullable: false },
              { name: "source_file", data: files, type: "STRING", nullable: false },
            ],
            rowGroupSize: texts.length,
          })
          writeFileSync(dest, new Uint8Array(buffer))
        },
      },
    ],
  },
  ...([
    ["ES", "es", "multilingual/UniversalDependencies__UD_Spanish-GSD/es_gsd-ud-dev.conllu.text.txt", "es_gsd-ud-dev.jsonl", udLicense("4.0"), "Spanish web, news and wiki sentences (UD Spanish-GSD dev)."],
    ["DE", "de", "multilingual/UniversalDependencies__UD_German-GSD/de_gsd-ud-test.conllu.text.txt", "de_gsd-ud-test.jsonl", udLicense("4.0"), "German news, web and wiki sentences (UD German-GSD test)."],
    ["FR", "fr", "multilingual/RU-ECE__ECE451-Parallel/archive/project-gutenberg-data/books/French/Candide.txt", "candide.jsonl", pgLicense, "French original of Voltaire's Candide: the only French running text in the snapshot with a clear license."],
    ["IT", "it", "multilingual/UniversalDependencies__UD_Italian-PUD/it_pud-ud-test.conllu.text.txt", "it_pud-ud-test.jsonl", udLicense("3.0"), "Italian news and Wikipedia sentences (UD Italian-PUD)."],
    ["NL", "nl", "multilingual/UniversalDependencies__UD_Dutch-LassySmall/nl_lassysmall-ud-test.conllu.text.txt", "nl_lassysmall-ud-test.jsonl", udLicense("4.0"), "Dutch Wikipedia sentences (UD Dutch-LassySmall test)."],
    ["PT", "pt", "multilingual/UniversalDependencies__UD_Portuguese-Bosque/pt_bosque-ud-dev.conllu.text.txt", "pt_bosque-ud-dev.jsonl", udLicense("4.0"), "Portuguese newspaper text (UD Portuguese-Bosque dev)."],
  ] as const).map(([upper, lang, file, name, license, rationale]): Row => ({
    row: `CulturaX ${upper}`, slug: `culturax-${lang}`, category: "web", dataset: `uonlp/CulturaX (${lang})`, language: lang,
    rationale: `${rationale} CulturaX is web text; this row needs the language more than the genre.`,
    outputs: [textChunks(file, name, license, lang === "fr" ? 8000 : 3000)],
  })),
  {
    row: "C4", slug: "c4", category: "web", dataset: "allenai/c4 (en)", language: "en",
    rationale: "300 C4 English documents (text only).",
    outputs: [copy("webtext/hiyouga__LLaMA-Factory/data/c4_demo.jsonl", "c4_demo.jsonl", "Apache-2.0 (hiyouga/LLaMA-Factory); C4 data ODC-BY-1.0")],
  },
  {
    row: "Arxiv", slug: "arxiv", category: "academic", dataset: "RedPajama arXiv", language: "en",
    rationale: "RedPajama-arXiv style LaTeX documents with arXiv metadata.",
    outputs: [copy("webtext/modelscope__data-juicer/demos/process_sci_data/data/arxiv.jsonl", "arxiv.jsonl", "Apache-2.0 (modelscope/data-juicer); arXiv text, upstream terms apply")],
  },
  {
    row: "PubMed", slug: "pubmed", category: "academic", dataset: "PubMed (The Pile)", language: "en",
    rationale: "No PubMed text is in the snapshot: Pile NIH ExPorter grant abstracts plus the three biology-related papers of the unarXive sample.",
    outputs: [
      copy("webtext/modelscope__data-juicer/demos/data_mixture/data/the-pile-nih-refined.jsonl", "the-pile-nih.jsonl", "Apache-2.0 (modelscope/data-juicer); NIH ExPorter abstracts are US government works"),
      selectLines(unarxive, "unarxive-bio.jsonl", unarxiveLicense, `id in ${[...biomedicalPapers].join(", ")}`, (record) => biomedicalPapers.has(String(record.id))),
    ],
  },
  {
    row: "S2ORC", slug: "s2orc", category: "academic", dataset: "allenai/s2orc", language: "en",
    rationale: "Full-text open-access papers (title, abstract, body) across fields, as S2ORC has; unarXive is built the same way.",
    outputs: [selectLines(unarxive, "unarxive-papers.jsonl", unarxiveLicense, `id in ${[...s2orcPapers].join(", ")}`, (record) => s2orcPapers.has(String(record.id)))],
  },
  {
    row: "PhilPapers", slug: "philpapers", category: "academic", dataset: "PhilPapers (The Pile)", language: "en",
    rationale: "No philosophy papers are in the snapshot: the unarXive papers on foundations of physics and mathematical logic.",
    outputs: [selectLines(unarxive, "unarxive-logic-foundations.jsonl", unarxiveLicense, `id in ${[...philosophyPapers].join(", ")}`, (record) => philosophyPapers.has(String(record.id)))],
  },
  {
    row: "BookCorpusOpen", slug: "bookcorpusopen", category: "books", dataset: "BookCorpusOpen", language: "en",
    rationale: "A full English novel (The Hound of the Baskervilles).",
    outputs: [textChunks("books/RU-ECE__ECE451-Parallel/archive/project-gutenberg-data/books/2852-0.txt", "hound-of-the-baskervilles.jsonl", pgLicense, 16000)],
  },
  {
    row: "PG-19", slug: "pg19", category: "books", dataset: "deepmind/pg19", language: "en",
    rationale: "A pre-1919 Project Gutenberg book with its PG header, as PG-19 stores them (The Adventures of Sherlock Holmes).",
    outputs: [textChunks("books/RU-ECE__ECE451-Parallel/archive/project-gutenberg-data/pg1661.txt", "pg1661.jsonl", pgLicense, 16000)],
  },
  {
    row: "FanFics", slug: "fanfics", category: "books", dataset: "FanFics", language: "en",
    rationale: "No fan fiction is in the snapshot: short fiction (Alice's Adventures in Wonderland).",
    outputs: [textChunks("books/RU-ECE__ECE451-Parallel/archive/project-gutenberg-data/books/11-0.txt", "alice.jsonl", pgLicense, 8000)],
  },
  {
    row: "StarCoder", slug: "starcoder", category: "code", dataset: "bigcode/starcoderdata", language: "code",
    rationale: "Source files from ten permissively licensed repositories in seven languages, one record per file as in starcoderdata.",
    outputs: [{
      file: "code.jsonl", format: "jsonl", fields: { text: "text" }, sources: ["code/MANIFEST.jsonl"],
      license: "per file, in each record's `license` field: MIT, Apache-2.0, BSD-2-Clause, BSD-3-Clause or MIT OR Apache-2.0",
      origins: codeOrigins(),
      extraction:
        "one record per file listed in code/MANIFEST.jsonl, in manifest order: {text (the file contents), repo, path, commit, license, language}",
      write: (dest) => writeJsonl(dest, readJsonl("code/MANIFEST.jsonl").map((entry) => ({
        text: readFileSync(dataPath(String(entry.local)), "utf8"),
        repo: entry.repo, path: entry.path, commit: entry.commit, license: entry.license, language: entry.language,
      }))),
    }],
  },
  {
    row: "StackExchange", slug: "stackexchange", category: "social", dataset: "StackExchange (RedPajama / Pile)", language: "en",
    rationale:
      "coffee.stackexchange.com question threads with their answers. Each record's `id` is the question's URL " +
      "without https://, and that page names the authors, as the CC-BY-SA attribution requires.",
    outputs: [copy("social/Yoav-Shafir__Elasticsearch-Coffee-Search-Engine-JS/Posts.xml.threads.jsonl", "coffee-threads.jsonl", "CC-BY-SA-3.0 (Stack Exchange user contributions; attribution + share-alike)")],
  },
  {
    row: "HackerNews", slug: "hackernews", category: "social", dataset: "HackerNews (The Pile)", language: "en",
    rationale:
      "No Hacker News text is in the snapshot: English community discussion threads with scored replies " +
      "(beer.stackexchange.com). Each record's `id` is the question's URL without https://, and that page names the authors, " +
      "as the CC-BY-SA attribution requires.",
    outputs: [copy("social/kevswanberg__beer_tentrr/Posts.xml.threads.jsonl", "beer-threads.jsonl", "CC-BY-SA-3.0 (Stack Exchange user contributions; attribution + share-alike)")],
  },
  {
    row: "EuroParl", slug: "europarl", category: "law", dataset: "EuroParl (The Pile)", language: "en",
    rationale: "No parliamentary proceedings are in the snapshot: legislative text of a US public law (Public Law 113-287).",
    outputs: [textChunks("law/usgpo__uslm/previous/sample-files/113publ287-uslm.txt", "113publ287.jsonl", "CC0-1.0 / US public domain (17 USC 105)", 8000)],
  },
  {
    row: "FreeLaw", slug: "freelaw", category: "law", dataset: "FreeLaw (The Pile)", language: "en",
    rationale: "Full-text US court opinions (New Mexico Court of Appeals), as FreeLaw's CourtListener opinions.",
    outputs: [copy("law/chinmusique__outcome-prediction/data/manual_annotation.opinions.text.jsonl", "nm-opinions.jsonl", "public domain (US court opinions, Caselaw Access Project open jurisdiction)")],
  },
  {
    row: "PileOfLaw", slug: "pileoflaw", category: "law", dataset: "pile-of-law/pile-of-law", language: "en",
    rationale: "US federal regulations (Code of Federal Regulations, title 27 volume 3); Pile of Law includes the CFR.",
    outputs: [textChunks("law/usgpo__uslm/previous/sample-files/CFR-2018-title27-vol3-uslm.txt", "cfr-title27-vol3.jsonl", "CC0-1.0 / US public domain (17 USC 105)", 8000)],
  },
  {
    row: "DM Math", slug: "dm-math", category: "math", dataset: "deepmind/math_dataset", language: "en",
    rationale: "Short arithmetic word problems with worked answers (GSM8K test, problems 0-659).",
    outputs: [mapRecords(
      "math/openai__grade-school-math/grade_school_math/data/test.jsonl", "gsm8k-test-0-659.jsonl", "MIT (openai/grade-school-math)",
      { text: "text" },
      "records 0-659 of the source; text = question + \"\\n\" + answer; question and answer kept",
      (record, index) => index < 660 ? { text: `${record.question}\n${record.answer}`, question: record.question, answer: record.answer } : undefined,
    )],
  },
  {
    row: "AMPS", slug: "amps", category: "math", dataset: "AMPS (Khan Academy + Mathematica)", language: "en",
    rationale: "Step-by-step solutions broken into sub-questions, as Khan Academy hints are (GSM8K socratic, problems 660-1318, so no problem repeats DM Math).",
    outputs: [mapRecords(
      "math/openai__grade-school-math/grade_school_math/data/test_socratic.jsonl", "gsm8k-socratic-660-1318.jsonl", "MIT (openai/grade-school-math)",
      { text: "text" },
      "records 660-1318 of the source; text = question + \"\\n\" + answer; question and answer kept",
      (record, index) => index >= 660 ? { text: `${record.question}\n${record.answer}`, question: record.question, answer: record.answer } : undefined,
    )],
  },
  {
    row: "OpenWebMath", slug: "openwebmath", category: "math", dataset: "open-web-math/open-web-math", language: "en",
    rationale: "Mathematical text with LaTeX (MATH-500 problems and solutions); OpenWebMath keeps LaTeX from math web pages.",
    outputs: [mapRecords(
      "math/hkust-nlp__simpleRL-reason/examples/simplelr_math_eval/data/math500/test.jsonl", "math500.jsonl", "MIT (hkust-nlp/simpleRL-reason; problems from hendrycks/math, MIT)",
      { text: "text" },
      "every record; text = \"Problem: \" + problem + \"\\n\\nSolution: \" + solution; all source fields kept",
      (record) => ({ text: `Problem: ${record.problem}\n\nSolution: ${record.solution}`, ...record }),
    )],
  },
  {
    row: "RedPajama Wiki", slug: "redpajama-wiki", category: "wiki", dataset: "RedPajama Wikipedia", language: "en",
    rationale:
      "English Wikipedia articles (WikiText-2 test split; tokenized text with ` @-@ ` and `<unk>`). Each record's " +
      "`title` names the Wikipedia article whose history lists its authors.",
    outputs: [{
      file: "wikitext-2-test.jsonl", format: "jsonl", fields: { text: "text" },
      sources: ["wiki/pytorch__examples/word_language_model/data/wikitext-2/test.txt"],
      license: "CC-BY-SA-3.0 (Wikipedia text via WikiText-2; attribution + share-alike)",
      extraction: "one record {text, title} per article: a new article starts at each top-level heading line ` = Title = `; text is the article with surrounding whitespace trimmed",
      write: (dest) => {
        const articles: Array<{ text: string; title: string }> = []
        let title = ""
        let lines: Array<string> = []
        const flush = () => {
          const text = lines.join("\n").trim()
          if (text !== "") articles.push({ text, title })
        }
        for (const line of readText("wiki/pytorch__examples/word_language_model/data/wikitext-2/test.txt").split("\n")) {
          const heading = /^ = ([^=].*) = $/.exec(line)
          if (heading !== null) {
            flush()
            title = heading[1]!
            lines = []
          }
          lines.push(line)
        }
        flush()
        writeJsonl(dest, articles)
      },
    }],
  },
  {
    row: "Restruct-v1", slug: "restruct-v1", category: "instruction", dataset: "Restruct-v1", language: "en",
    rationale: "Instruction-following dialogues rendered as plain text (Open-Assistant message trees, best-ranked path).",
    outputs: [mapRecords(
      "sft/LAION-AI__Open-Assistant/model/model_eval/manual/data/en_100_tree.jsonl", "oasst-en-100.jsonl", "Apache-2.0 (LAION-AI/Open-Assistant)",
      { text: "text" },
      "one record per message tree: follow the rank-0 reply at each level; text = turns as \"User: ...\" / \"Assistant: ...\" joined by blank lines; message_tree_id kept",
      (record) => ({
        text: bestPath(record.prompt as Record<string, unknown>).map((m) => `${m.role === "user" ? "User" : "Assistant"}: ${m.content}`).join("\n\n"),
        message_tree_id: record.message_tree_id,
      }),
    )],
  },
]

const postTraining: ReadonlyArray<Row> = [
  {
    row: "SFT chat (ChatML)", slug: "sft-chatml", category: "sft", dataset: "data-juicer ChatML demo", language: "zh",
    rationale: "ChatML `messages` rows with a system turn.",
    outputs: [copy("sft/modelscope__data-juicer/demos/data/demo-dataset-chatml.jsonl", "demo-dataset-chatml.jsonl", "Apache-2.0 (modelscope/data-juicer)", { messages: "messages" })],
  },
  {
    row: "SFT chat (Open-Assistant)", slug: "sft-oasst", category: "sft", dataset: "OpenAssistant/oasst1", language: "en",
    rationale: "Multi-turn English conversations as `messages`.",
    outputs: [mapRecords(
      "sft/LAION-AI__Open-Assistant/backend/test.jsonl", "oasst-backend-test.jsonl", "Apache-2.0 (LAION-AI/Open-Assistant)",
      { messages: "messages", id: "message_tree_id" },
      "one record per message tree: follow the rank-0 reply at each level; messages = [{role: user|assistant, content}]; message_tree_id kept",
      (record) => ({ messages: bestPath(record.prompt as Record<string, unknown>), message_tree_id: record.message_tree_id }),
    )],
  },
  {
    row: "DPO pairs (HH-RLHF harmless)", slug: "dpo-hh-rlhf", category: "dpo", dataset: "Anthropic/hh-rlhf", language: "en",
    rationale: "Preference pairs; the zephyr DPO stage uses pairs of the same shape.",
    outputs: [mapRecords(
      "preference/anthropics__hh-rlhf/harmless-base/test.jsonl.gz", "harmless-base-test-400.jsonl", "MIT (anthropics/hh-rlhf)",
      { prompt: "prompt", chosen: "chosen", rejected: "rejected" },
      "records 0-399 of the source; each transcript is split at its last \"\\n\\nAssistant:\": prompt = the chosen transcript up to and including that marker, chosen/rejected = the text after it (trimmed); pairs whose two prompts differ are skipped",
      (record, index) => {
        if (index >= 400) return undefined
        const chosen = splitTranscript(String(record.chosen))
        const rejected = splitTranscript(String(record.rejected))
        if (chosen === undefined || rejected === undefined || chosen.prompt !== rejected.prompt) return undefined
        return { prompt: chosen.prompt, chosen: chosen.response, rejected: rejected.response }
      },
    )],
  },
  {
    row: "Countdown (3 numbers)", slug: "countdown-cd3", category: "countdown", dataset: "Countdown (d1 cd3 test)", language: "en",
    rationale: "Countdown puzzles: reach the target with +, -, *, / over the given numbers.",
    outputs: [mapRecords(
      "math/dllm-reasoning__d1/dataset/countdown_cd3_test.jsonl", "countdown-cd3-test.jsonl", "Apache-2.0 (dllm-reasoning/d1)",
      { numbers: "numbers", target: "target" },
      "every record: numbers = the comma-separated `input` as integers, target = `output` as an integer",
      (record) => ({ numbers: String(record.input).split(",").map(Number), target: Number(record.output) }),
    )],
  },
  {
    row: "Countdown (24 game)", slug: "countdown-24", category: "countdown", dataset: "Game of 24 (tree-of-thought)", language: "en",
    rationale: "Game-of-24 puzzles: four numbers, target 24.",
    outputs: [{
      file: "game24.jsonl", format: "jsonl", fields: { numbers: "numbers", target: "target" },
      sources: ["math/princeton-nlp__tree-of-thought-llm/src/tot/data/24/24.csv"], license: "MIT (princeton-nlp/tree-of-thought-llm)",
      extraction: "every CSV data row: numbers = the space-separated `Puzzles` column as integers, target = 24, rank and solved_rate (a fraction) kept",
      write: (dest) => {
        const lines = readText("math/princeton-nlp__tree-of-thought-llm/src/tot/data/24/24.csv").trim().split("\n").slice(1)
        writeJsonl(dest, lines.map((line) => {
          const [rank, puzzle, , solved] = line.split(",")
          return { numbers: puzzle!.split(" ").map(Number), target: 24, rank: Number(rank), solved_rate: Number(solved!.replace("%", "")) / 100 }
        }))
      },
    }],
  },
]

// Reads every JSONL record of a sample, with the longest line in UTF-8 bytes.
function readRecords(path: string): { records: Array<Record<string, unknown>>; maxLineBytes: number } {
  const bytes = readFileSync(path)
  const text = (path.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8")
  const lines = text.split("\n").filter((line) => line.trim() !== "")
  const maxLineBytes = lines.reduce((max, line) => Math.max(max, Buffer.byteLength(line)), 0)
  return { records: lines.map((line) => JSON.parse(line)), maxLineBytes }
}

function stringsOf(value: unknown, out: Array<string>): void {
  if (typeof value === "string") out.push(value)
  else if (typeof value === "number") out.push(String(value))
  else if (Array.isArray(value)) for (const item of value) stringsOf(item, out)
  else if (value !== null && typeof value === "object") for (const item of Object.values(value)) stringsOf(item, out)
}

// Counts cl100k tokens of the mapped fields and measures the largest record in UTF-8 bytes: the
// longest JSONL line, or for Parquet the longest mapped values joined by newlines.
async function countTokens(
  path: string, format: Format, fields: Record<string, string>,
): Promise<{ tokens: number; records: number; maxRecordBytes: number }> {
  let records: Array<Record<string, unknown>>
  let maxRecordBytes = 0
  if (format === "parquet") {
    const { parquetReadObjects } = await import("hyparquet")
    const { compressors } = await import("hyparquet-compressors")
    const bytes = readFileSync(path)
    records = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), compressors })
  } else {
    const read = readRecords(path)
    records = read.records
    maxRecordBytes = read.maxLineBytes
  }
  let tokens = 0
  for (const record of records) {
    const strings: Array<string> = []
    for (const column of Object.values(fields)) stringsOf(record[column], strings)
    const text = strings.join("\n")
    tokens += encoder.encode(text, [], []).length
    if (format === "parquet") maxRecordBytes = Math.max(maxRecordBytes, Buffer.byteLength(text))
  }
  return { tokens, records: records.length, maxRecordBytes }
}

interface IndexEntry {
  readonly row: string
  readonly category: Category
  readonly dataset: string
  readonly language: string
  readonly uri: string
  readonly format: Format
  readonly compression: "none" | "gzip"
  readonly fields: Record<string, string>
  readonly bytes: number
  readonly records: number
  readonly maxRecordBytes: number
  readonly approxTokens: number
  readonly license: string
  readonly sha256: string
}

function sourceMarkdown(row: Row): string {
  const lines = [
    `# ${row.row}: sample source`,
    "",
    `Sample for **${row.dataset}** (${row.category}, language \`${row.language}\`). ${row.rationale}`,
    "",
  ]
  for (const output of row.outputs) {
    lines.push(`## ${output.file}`, "", `License: ${output.license}`, "", `Extraction: ${output.extraction}.`, "", "Origin:", "")
    for (const from of output.origins ?? output.sources.map(origin)) {
      lines.push(
        `- repository \`${from.repo}\`, path \`${from.repoPath}\`, commit \`${from.commit || "(not recorded)"}\`, ` +
        `license as recorded: ${from.license}`,
      )
    }
    lines.push("")
  }
  lines.push("Built by `samples/build.ts` from the data snapshot's `catalog.tsv` row for each file.", "")
  return lines.join("\n")
}

async function main(): Promise<void> {
  if (!existsSync(join(dataRoot, "catalog.tsv"))) {
    throw new Error(`${dataRoot}: no catalog.tsv; pass --data DIR or set MIXWRIGHT_DATA to the data snapshot`)
  }
  const index: Array<IndexEntry> = []
  for (const row of [...rows, ...postTraining]) {
    const dir = join(samplesDir, row.slug)
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    for (const output of row.outputs) {
      const dest = join(dir, output.file)
      mkdirSync(dirname(dest), { recursive: true })
      output.write(dest)
      const bytes = readFileSync(dest)
      const { tokens, records, maxRecordBytes } = await countTokens(dest, output.format, output.fields)
      index.push({
        row: row.row, category: row.category, dataset: row.dataset, language: row.language,
        uri: relative(projectRoot, dest), format: output.format,
        compression: dest.endsWith(".gz") ? "gzip" : "none",
        fields: output.fields, bytes: bytes.length, records, maxRecordBytes, approxTokens: tokens, license: output.license,
        sha256: createHash("sha256").update(bytes).digest("hex"),
      })
    }
    writeFileSync(join(dir, "SOURCE.md"), sourceMarkdown(row))
  }
  writeFileSync(join(samplesDir, "index.json"), JSON.stringify(index, null, 2) + "\n")
  writeFileSync(join(samplesDir, "README.md"), readme(index))
  const total = index.reduce((sum, entry) => sum + entry.bytes, 0)
  const tokens = index.reduce((sum, entry) => sum + entry.approxTokens, 0)
  console.log(`wrote ${index.length} files, ${total} bytes, about ${tokens} cl100k tokens`)
}

function readme(index: ReadonlyArray<IndexEntry>): string {
  const fieldText = (fields: Record<string, string>) => Object.entries(fields).map(([k, v]) => k === v ? `\`${k}\`` : `${k}=\`${v}\``).join(", ")
  const table = index.map((entry) =>
    `| ${entry.row} | ${entry.category} | [${entry.uri.replace(/^samples\//, "")}](${entry.uri.replace(/^samples\//, "")}) | ` +
    `${entry.format}${entry.compression === "gzip" ? " (gzip)" : ""} | ${fieldText(entry.fields)} | ${entry.bytes.toLocaleString("en-US")} | ` +
    `${entry.records.toLocaleString("en-US")} | ${entry.approxTokens.toLocaleString("en-US")} | ${entry.license} |`)
  const total = index.reduce((sum, entry) => sum + entry.bytes, 0)
  const tokens = index.reduce((sum, entry) => sum + entry.approxTokens, 0)
  return [
    "# Sample data",
    "",
    "Real public text for the `sample` profile of the StableLM 2 1.6B recipe: one source per row of the",
    "report's Table 1 (28 rows), plus small SFT, DPO and Countdown sets. Each folder has a `SOURCE.md`",
    "with the origin repository, path, commit, license and what was extracted. `index.json` lists the",
    "same files for programs; `samples/build.ts` rebuilds everything from the data snapshot:",
    "",
    "```sh",
    "npx node samples/build.ts --data /path/to/data-snapshot",
    "```",
    "",
    "Rules the files follow:",
    "",
    "- Several `index.json` entries may share a `row`; together they are that row's source, and they",
    "  share one `format` and one `fields` mapping, so one `read` node can take all their URIs.",
    "- `fields` maps the recipe's column names (`text`, `messages`, `prompt`, `chosen`, `rejected`, `id`)",
    "  to the file's columns. Countdown rows use `numbers` and `target`.",
    "- `.jsonl.gz` files are gzip-compressed JSONL (`compression: \"gzip\"` in the index).",
    "- Where a row's dataset has no public sample in the snapshot (PubMed, PhilPapers, FanFics, HackerNews,",
    "  EuroParl and the CulturaX French row), the closest text by category or language replaces it;",
    "  `SOURCE.md` says which and why. A row's sample says nothing about the real dataset's size or quality.",
    "- Share-alike sources (Wikipedia, Stack Exchange, Universal Dependencies, the unarXive papers) keep",
    "  their license and attribution in `SOURCE.md`; a mix that includes them inherits those terms.",
    "- The snapshot's non-commercial Alpaca seed tasks and the AIME/AMC competition problems are not used.",
    "",
    "Each `index.json` entry has `row`, `category`, `dataset`, `language`, `uri` (relative to the",
    "project root), `format` (`jsonl` or `parquet`), `compression`, `fields`, `bytes`, `records`,",
    "`maxRecordBytes` (the longest JSONL line, or the longest mapped Parquet value), `approxTokens`,",
    "`license` and `sha256`. The largest record of all is",
    `${Math.max(...index.map((entry) => entry.maxRecordBytes)).toLocaleString("en-US")} bytes, so a \`read\` node over these samples needs a`,
    "`maxRecordBytes` limit at least that large.",
    "",
    "Token counts are cl100k_base (js-tiktoken) counts of the mapped fields of every record, joined by",
    "newlines; Arcade100k counts differ slightly (it splits digits into single tokens).",
    "",
    "| row | category | file | format | fields | bytes | records | approx. tokens | license |",
    "|---|---|---|---|---|---:|---:|---:|---|",
    ...table,
    "",
    `Total: ${index.length} files, ${total.toLocaleString("en-US")} bytes, about ${tokens.toLocaleString("en-US")} cl100k tokens.`,
    "",
  ].join("\n")
}

await main()
