/**
 * StableLM 2 1.6B: pretraining mix, SFT, DPO and quantized releases.
 *
 * The data rows and categories come from Table 1 of the "Stable LM 2 1.6B Technical
 * Report" (Bellagente et al., arXiv 2402.17834). Datasets, languages and fine-tuning
 * data come from the model cards of stabilityai/stablelm-2-1_6b and
 * stablelm-2-zephyr-1_6b. The model, optimizer and schedule come from
 * Stability-AI/StableLM `configs/stablelm-2-1_6b.yml`.
 *
 * The `sample` profile points every Table 1 row at a small real sample shipped in
 * `samples/` and scales the mix to a budget that keeps every row's share. Set
 * `MIXWRIGHT_SAMPLES` to read the same files from another place, such as a copy of
 * `samples/` on S3: `MIXWRIGHT_SAMPLES=s3://bucket/samples`.
 */
import { readFileSync } from "node:fs"
import { defineRecipe, type SourceInput } from "../compiler/recipe/define.ts"

// ---------------------------------------------------------------------------
// Table 1 of the report. Fill the three numeric columns from the report to plan with
// its numbers; this table is the only place they go.
// NOTE: the weight, token and epoch cells could not be read when this recipe was
// written, so they are `undefined`, and every row falls back to the model card's
// statement: 2 trillion tokens over two epochs, which repeats every source twice.
// ---------------------------------------------------------------------------

interface Table1Row {
  readonly id: string
  readonly row: string
  readonly category: "Web" | "Academic" | "Books" | "Code" | "Social" | "Law" | "Math" | "Wiki" | "Instruction"
  readonly dataset: string
  readonly language: string
  readonly weight?: number
  readonly tokens?: string
  readonly epochs?: number
}

const TABLE_1 = [
  { id: "refinedweb", row: "RefinedWeb", category: "Web", dataset: "tiiuae/falcon-refinedweb", language: "en" },
  { id: "openwebtext2", row: "OpenWebText2", category: "Web", dataset: "The Pile: OpenWebText2", language: "en" },
  { id: "culturax_en", row: "CulturaX EN", category: "Web", dataset: "uonlp/CulturaX", language: "en" },
  { id: "culturax_es", row: "CulturaX ES", category: "Web", dataset: "uonlp/CulturaX", language: "es" },
  { id: "culturax_de", row: "CulturaX DE", category: "Web", dataset: "uonlp/CulturaX", language: "de" },
  { id: "culturax_fr", row: "CulturaX FR", category: "Web", dataset: "uonlp/CulturaX", language: "fr" },
  { id: "culturax_it", row: "CulturaX IT", category: "Web", dataset: "uonlp/CulturaX", language: "it" },
  { id: "culturax_nl", row: "CulturaX NL", category: "Web", dataset: "uonlp/CulturaX", language: "nl" },
  { id: "culturax_pt", row: "CulturaX PT", category: "Web", dataset: "uonlp/CulturaX", language: "pt" },
  { id: "c4", row: "C4", category: "Web", dataset: "togethercomputer/RedPajama-Data-1T: c4", language: "en" },
  { id: "arxiv", row: "Arxiv", category: "Academic", dataset: "togethercomputer/RedPajama-Data-1T: arxiv", language: "en" },
  { id: "pubmed", row: "PubMed", category: "Academic", dataset: "CarperAI/pilev2-dev: PubMed", language: "en" },
  { id: "s2orc", row: "S2ORC", category: "Academic", dataset: "CarperAI/pilev2-dev: S2ORC", language: "en" },
  { id: "philpapers", row: "PhilPapers", category: "Academic", dataset: "CarperAI/pilev2-dev: PhilPapers", language: "en" },
  { id: "bookcorpusopen", row: "BookCorpusOpen", category: "Books", dataset: "BookCorpusOpen", language: "en" },
  { id: "pg19", row: "PG-19", category: "Books", dataset: "deepmind/pg19", language: "en" },
  { id: "fanfics", row: "FanFics", category: "Books", dataset: "FanFics", language: "en" },
  { id: "starcoder", row: "StarCoder", category: "Code", dataset: "bigcode/starcoderdata", language: "code" },
  { id: "stackexchange", row: "StackExchange", category: "Social", dataset: "togethercomputer/RedPajama-Data-1T: stackexchange", language: "en" },
  { id: "hackernews", row: "HackerNews", category: "Social", dataset: "CarperAI/pilev2-dev: HackerNews", language: "en" },
  { id: "europarl", row: "EuroParl", category: "Law", dataset: "CarperAI/pilev2-dev: EuroParl", language: "en" },
  { id: "freelaw", row: "FreeLaw", category: "Law", dataset: "CarperAI/pilev2-dev: FreeLaw", language: "en" },
  { id: "pileoflaw", row: "PileOfLaw", category: "Law", dataset: "pile-of-law/pile-of-law", language: "en" },
  { id: "dm_math", row: "DM Math", category: "Math", dataset: "CarperAI/pilev2-dev: DM Mathematics", language: "en" },
  { id: "amps", row: "AMPS", category: "Math", dataset: "AMPS (Khan Academy and Mathematica)", language: "en" },
  { id: "openwebmath", row: "OpenWebMath", category: "Math", dataset: "open-web-math/open-web-math", language: "en" },
  { id: "redpajama_wiki", row: "RedPajama Wiki", category: "Wiki", dataset: "togethercomputer/RedPajama-Data-1T: wikipedia", language: "en" },
  { id: "restruct_v1", row: "Restruct-v1", category: "Instruction", dataset: "Restruct-v1 (restructured instruction data)", language: "en" }
] as const satisfies ReadonlyArray<Table1Row>

type Table1Id = (typeof TABLE_1)[number]["id"]

/** The model card's statement used while Table 1's numbers are missing: every source twice. */
const MODEL_CARD_EPOCHS = 2
const MODEL_CARD_TOTAL_TOKENS = "2T"

// ---------------------------------------------------------------------------
// Where each row's data lives. Hub datasets use `hf://datasets/<repo>/<files>`; the
// hub is unreachable from air-gapped machines, where the `sample` profile applies.
// ---------------------------------------------------------------------------

const HUB_FILES: Record<Table1Id, string> = {
  refinedweb: "hf://datasets/tiiuae/falcon-refinedweb/data/*.parquet",
  openwebtext2: "hf://datasets/CarperAI/pilev2-dev/data/OpenWebText2/*.parquet",
  culturax_en: "hf://datasets/uonlp/CulturaX/en/*.parquet",
  culturax_es: "hf://datasets/uonlp/CulturaX/es/*.parquet",
  culturax_de: "hf://datasets/uonlp/CulturaX/de/*.parquet",
  culturax_fr: "hf://datasets/uonlp/CulturaX/fr/*.parquet",
  culturax_it: "hf://datasets/uonlp/CulturaX/it/*.parquet",
  culturax_nl: "hf://datasets/uonlp/CulturaX/nl/*.parquet",
  culturax_pt: "hf://datasets/uonlp/CulturaX/pt/*.parquet",
  c4: "hf://datasets/togethercomputer/RedPajama-Data-1T/c4/*.jsonl",
  arxiv: "hf://datasets/togethercomputer/RedPajama-Data-1T/arxiv/*.jsonl",
  pubmed: "hf://datasets/CarperAI/pilev2-dev/data/PubMed/*.parquet",
  s2orc: "hf://datasets/CarperAI/pilev2-dev/data/S2ORC/*.parquet",
  philpapers: "hf://datasets/CarperAI/pilev2-dev/data/PhilPapers/*.parquet",
  bookcorpusopen: "hf://datasets/CarperAI/pilev2-dev/data/BookCorpusOpen/*.parquet",
  pg19: "hf://datasets/deepmind/pg19/data/*.parquet",
  fanfics: "hf://datasets/CarperAI/pilev2-dev/data/FanFics/*.parquet",
  starcoder: "hf://datasets/bigcode/starcoderdata/*/*.parquet",
  stackexchange: "hf://datasets/togethercomputer/RedPajama-Data-1T/stackexchange/*.jsonl",
  hackernews: "hf://datasets/CarperAI/pilev2-dev/data/HackerNews/*.parquet",
  europarl: "hf://datasets/CarperAI/pilev2-dev/data/EuroParl/*.parquet",
  freelaw: "hf://datasets/CarperAI/pilev2-dev/data/FreeLaw/*.parquet",
  pileoflaw: "hf://datasets/pile-of-law/pile-of-law@~parquet/*/train/*.parquet",
  dm_math: "hf://datasets/CarperAI/pilev2-dev/data/DMMath/*.parquet",
  amps: "hf://datasets/CarperAI/pilev2-dev/data/AMPS/*.parquet",
  openwebmath: "hf://datasets/open-web-math/open-web-math/data/*.parquet",
  redpajama_wiki: "hf://datasets/togethercomputer/RedPajama-Data-1T/wikipedia/*.jsonl",
  restruct_v1: "hf://datasets/DataProvenanceInitiative/Commercially-Verified-Licenses/data/*.jsonl"
}

/** Quality filtering by kind of text. English web text gets the Gopher and C4 rules. */
const PIPELINE_OF: Record<Table1Row["category"], string> = {
  Web: "web",
  Academic: "dedup",
  Books: "dedup",
  Code: "code",
  Social: "dedup",
  Law: "dedup",
  Math: "dedup",
  Wiki: "dedup",
  Instruction: "dedup"
}
const pipelineFor = (row: Table1Row): "web" | "multilingual" | "code" | "dedup" =>
  row.category === "Web" && row.language !== "en" ? "multilingual" : (PIPELINE_OF[row.category] as "web" | "code" | "dedup")

// ---------------------------------------------------------------------------
// Sample data shipped in `samples/`: one or more real files per Table 1 row.
// ---------------------------------------------------------------------------

interface SampleEntry {
  readonly row: string
  readonly category: string
  readonly uri: string
  readonly format: "parquet" | "jsonl" | "arrow" | "text"
  readonly fields: Record<string, string>
  readonly approxTokens: number
}

const SAMPLES: ReadonlyArray<SampleEntry> = JSON.parse(
  readFileSync(new URL("../samples/index.json", import.meta.url), "utf8")
) as ReadonlyArray<SampleEntry>

/** Location of the `samples/` folder: this checkout's copy unless MIXWRIGHT_SAMPLES names another. */
const SAMPLES_ROOT = (process.env.MIXWRIGHT_SAMPLES ?? "../samples").replace(/\/+$/, "")

const samplesOf = (row: string): ReadonlyArray<SampleEntry> => SAMPLES.filter((entry) => entry.row === row)

const sampleOverride = (row: string) => {
  const entries = samplesOf(row)
  return {
    uri: entries.map((entry) => `${SAMPLES_ROOT}/${entry.uri.replace(/^samples\//, "")}`),
    format: entries[0]!.format,
    fields: entries[0]!.fields,
    // cl100k_base counts of the sample files; the filters and dedup shrink them a little.
    size: { tokens: entries.reduce((sum, entry) => sum + entry.approxTokens, 0) }
  }
}

const pretrainSources = Object.fromEntries(
  TABLE_1.map((row) => [
    row.id,
    {
      uri: HUB_FILES[row.id]!,
      fields: { text: row.id === "starcoder" ? "content" : "text" },
      dataset: row.dataset,
      language: row.language,
      category: row.category,
      transforms: pipelineFor(row),
      onError: "skip" as const
    }
  ])
) as Record<Table1Id, SourceInput<"web" | "multilingual" | "code" | "dedup">>

const SFT_SOURCES = ["ultrachat_200k", "metamathqa", "wizardlm_evol_v2", "slimorca", "openchat_sharegpt4", "capybara", "deita_10k"] as const
const DPO_SOURCES = ["ultrafeedback_binarized", "orca_dpo_pairs"] as const

export default defineRecipe({
  name: "stablelm-2-1_6b",
  description: "StableLM 2 1.6B: multilingual pretraining mix, zephyr SFT and DPO, GGUF releases",

  sources: {
    ...pretrainSources,
    // Fine-tuning data named on the stablelm-2-zephyr-1_6b card.
    ultrachat_200k: { uri: "hf://datasets/HuggingFaceH4/ultrachat_200k/data/train_sft-*.parquet", fields: { messages: "messages" }, category: "SFT" },
    metamathqa: { uri: "hf://datasets/meta-math/MetaMathQA/MetaMathQA-395K.json", format: "jsonl", fields: { prompt: "query", response: "response" }, category: "SFT" },
    wizardlm_evol_v2: { uri: "hf://datasets/WizardLM/WizardLM_evol_instruct_V2_196k/*.json", format: "jsonl", fields: { messages: "conversations" }, category: "SFT" },
    slimorca: { uri: "hf://datasets/Open-Orca/SlimOrca/*.jsonl", fields: { messages: "conversations" }, category: "SFT" },
    openchat_sharegpt4: { uri: "hf://datasets/openchat/openchat_sharegpt4_dataset/*.json", format: "jsonl", fields: { messages: "items" }, category: "SFT" },
    capybara: { uri: "hf://datasets/LDJnr/Capybara/*.jsonl", fields: { messages: "conversation" }, category: "SFT" },
    deita_10k: { uri: "hf://datasets/hkust-nlp/deita-10k-v0/*.json", format: "jsonl", fields: { messages: "conversations" }, category: "SFT" },
    ultrafeedback_binarized: {
      uri: "hf://datasets/allenai/ultrafeedback_binarized_cleaned/data/train_prefs-*.parquet",
      fields: { prompt: "prompt", chosen: "chosen", rejected: "rejected" },
      category: "DPO"
    },
    orca_dpo_pairs: {
      uri: "hf://datasets/Intel/orca_dpo_pairs/*.parquet",
      fields: { prompt: "question", chosen: "chosen", rejected: "rejected" },
      category: "DPO"
    }
  },

  transforms: {
    web: [
      { filter: { rules: [{ rule: "length", minWords: 5 }, { rule: "gopher_repetition" }, { rule: "c4", requireTerminalPunctuation: false }] } },
      { dedup: { method: "exact" } }
    ],
    multilingual: [
      { filter: { rules: [{ rule: "length", minChars: 20 }] } },
      { dedup: { method: "exact" } }
    ],
    code: [
      { filter: { rules: [{ rule: "length", minChars: 20, maxChars: 1_000_000 }] } },
      { dedup: { method: "exact" } }
    ],
    dedup: [{ dedup: { method: "exact" } }]
  },

  mixes: {
    pretrain: {
      description: "Table 1 of the report; two epochs of every source per the model card until the table's numbers are filled in",
      tokenizer: "arcade100k",
      sequenceLength: 4096,
      seed: 42,
      totalTokens: MODEL_CARD_TOTAL_TOKENS,
      components: TABLE_1.map((row: Table1Row & { readonly id: Table1Id }) => ({
        source: row.id,
        name: row.row,
        ...(row.weight !== undefined
          ? { weight: row.weight }
          : row.tokens !== undefined
            ? { tokens: row.tokens }
            : { epochs: row.epochs ?? MODEL_CARD_EPOCHS })
      }))
    }
  },

  stages: {
    pretrain: {
      type: "pretrain",
      data: "pretrain",
      backend: "gpt-neox",
      model: {
        architecture: "stablelm",
        layers: 24,
        hiddenSize: 2048,
        heads: 32,
        kvHeads: 32,
        intermediateSize: 5632,
        sequenceLength: 4096,
        vocabSize: 100352,
        rotaryPercent: 0.25,
        rotaryBase: 10000,
        norm: "layernorm",
        activation: "swiglu",
        tiedEmbeddings: false,
        precision: "bf16",
        parameters: 1_644_417_024
      },
      optimizer: { type: "adamw", lr: 1e-3, minLr: 1e-4, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.1, gradClip: 1.0 },
      schedule: {
        style: "hybrid_cosine_inv_sqrt_2",
        warmup: 0.018,
        decaySteps: 540_000,
        // The released global_step420000 checkpoint precedes a linear cooldown to zero.
        cooldown: { fromStep: 420_000, fromLr: 2.529e-4, toLr: 0, style: "linear", checkpoint: "global_step420000" }
      },
      batch: { microBatchPerGpu: 2, gradientAccumulation: 2, gpus: 512 },
      steps: 540_000
    },
    sft: {
      type: "sft",
      from: "pretrain",
      data: SFT_SOURCES,
      backend: "alignment-handbook",
      description: "stablelm-2-zephyr-1_6b supervised fine-tuning"
    },
    dpo: {
      type: "dpo",
      from: "sft",
      data: DPO_SOURCES,
      backend: "alignment-handbook",
      description: "stablelm-2-zephyr-1_6b preference tuning"
    },
    gguf: {
      type: "quantize",
      from: "dpo",
      backend: "llama.cpp",
      quantize: { format: "gguf", types: ["Q4_0", "Q4_1", "Q5_K_M", "Q8_0"] }
    },
    openvino: {
      type: "quantize",
      from: "dpo",
      backend: "openvino",
      quantize: { format: "openvino", types: ["int4"] }
    }
  },

  profiles: {
    sample: {
      description: "Every Table 1 row on a real sample from samples/, scaled to 2M tokens with the full plan's shares",
      store: ".mixwright",
      sample: { totalTokens: "2M" },
      sources: {
        ...Object.fromEntries(TABLE_1.map((row) => [row.id, sampleOverride(row.row)])),
        // The closest shipped chat and preference samples stand in for every fine-tuning set.
        ...Object.fromEntries(SFT_SOURCES.map((name) => [name, sampleOverride("SFT chat (Open-Assistant)")])),
        ...Object.fromEntries(DPO_SOURCES.map((name) => [name, sampleOverride("DPO pairs (HH-RLHF harmless)")]))
      }
    }
  }
})
