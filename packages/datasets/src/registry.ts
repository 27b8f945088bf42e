import type { DatasetName } from "@lmcot/core";

/** Where the bytes of a dataset come from: one file, or a zip archive that holds it. */
export interface DataDownload {
  /** Official URL first, then mirrors; each is tried in turn. */
  urls: string[];
  /** The downloaded file, relative to the data folder. */
  file: string;
  /** Known in advance (pinned); otherwise trusted on first use. */
  sha256?: string;
  bytes?: number;
  /** The largest the data may become, decoded or unpacked (default: the download limit, `LMCOT_DATA_MAX_MB`). */
  maxBytes?: number;
  /** This download's stall and total timeouts, when its registry entry sets them. */
  stallTimeoutMs?: number;
  totalTimeoutMs?: number;
  archive?: "zip";
}

/** One split of one dataset, e.g. `hotpotqa:dev`. */
export interface DataSource {
  /** `name:split` */
  id: string;
  name: string;
  split: string;
  description: string;
  /** The file the readers open, relative to the data folder (the download itself, or a member of its archive). */
  file: string;
  download: DataDownload;
  /** The record format, when the readers cannot tell from the fields. */
  format?: DatasetName;
  examples?: number;
  licence?: string;
  homepage?: string;
  citation?: string;
}

const HOTPOT_CITATION = `@inproceedings{yang2018hotpotqa,
  title = {{HotpotQA}: A Dataset for Diverse, Explainable Multi-hop Question Answering},
  author = {Yang, Zhilin and Qi, Peng and Zhang, Saizheng and Bengio, Yoshua and Cohen, William W. and Salakhutdinov, Ruslan and Manning, Christopher D.},
  booktitle = {Conference on Empirical Methods in Natural Language Processing ({EMNLP})},
  year = {2018}
}`;

const TWOWIKI_CITATION = `@inproceedings{xanh2020_2wikimultihop,
  title = {Constructing A Multi-hop {QA} Dataset for Comprehensive Evaluation of Reasoning Steps},
  author = {Ho, Xanh and Duong Nguyen, Anh-Khoa and Sugawara, Saku and Aizawa, Akiko},
  booktitle = {Proceedings of the 28th International Conference on Computational Linguistics},
  year = {2020},
  pages = {6609--6625},
  url = {https://www.aclweb.org/anthology/2020.coling-main.580}
}`;

// Sizes and checksums of the HotpotQA files as recorded by Hugging Face `datasets` (hotpot_qa/dataset_infos.json).
function hotpot(split: string, file: string, bytes: number, sha256: string, description: string): DataSource {
  return {
    id: `hotpotqa:${split}`,
    name: "hotpotqa",
    split,
    description,
    file: `hotpotqa/${file}`,
    download: {
      urls: [`http://curtis.ml.cmu.edu/datasets/hotpot/${file}`],
      file: `hotpotqa/${file}`,
      sha256,
      bytes,
    },
    format: "hotpotqa",
    examples: split === "train" ? 90_447 : 7_405,
    licence: "CC BY-SA 4.0",
    homepage: "https://hotpotqa.github.io/",
    citation: HOTPOT_CITATION,
  };
}

// The release archive linked from the 2WikiMultiHopQA README ("The full dataset is in here"); its
// checksum is not published, so it is trusted on first use.
const TWOWIKI_ZIP: DataDownload = {
  urls: ["https://www.dropbox.com/s/npidmtadreo6df2/data.zip?dl=1"],
  file: "2wikimultihopqa/data.zip",
  archive: "zip",
};

function twoWiki(split: string, examples: number | undefined): DataSource {
  return {
    id: `2wikimultihopqa:${split}`,
    name: "2wikimultihopqa",
    split,
    description: `2WikiMultiHopQA ${split} (from the official release archive data.zip)`,
    file: `2wikimultihopqa/${split}.json`,
    download: TWOWIKI_ZIP,
    format: "2wikimultihopqa",
    ...(examples === undefined ? {} : { examples }),
    licence: "Apache-2.0",
    homepage: "https://github.com/Alab-NII/2wikimultihop",
    citation: TWOWIKI_CITATION,
  };
}

/** The official files lmcot knows by name. */
export const BUILTIN_SOURCES: readonly DataSource[] = [
  hotpot(
    "train",
    "hotpot_train_v1.1.json",
    566_426_227,
    "26650cf50234ef5fb2e664ed70bbecdfd87815e6bffc257e068efea5cf7cd316",
    "HotpotQA training set (v1.1)",
  ),
  hotpot(
    "dev",
    "hotpot_dev_distractor_v1.json",
    46_320_117,
    "4e9ecb5c8d3b719f624d66b60f8d56bf227f03914f5f0753d6fa1b359d7104ea",
    "HotpotQA dev set, distractor setting (the paper's evaluation set)",
  ),
  hotpot(
    "dev-fullwiki",
    "hotpot_dev_fullwiki_v1.json",
    47_454_698,
    "2f1f3e594a3066a3084cc57950ca2713c24712adaad03af6ccce18d1846d5618",
    "HotpotQA dev set, fullwiki setting (retrieved paragraphs instead of the gold ones)",
  ),
  twoWiki("train", 167_454),
  twoWiki("dev", 12_576),
  twoWiki("test", 12_576),
];

/** `hotpotqa:dev-distractor` and `2wiki:dev` name the same files as `hotpotqa:dev` and `2wikimultihopqa:dev`. */
export function canonicalId(id: string): string {
  const [name = "", split = ""] = id.trim().toLowerCase().split(":");
  const dataset = name === "2wiki" ? "2wikimultihopqa" : name;
  const part = dataset === "hotpotqa" && split === "dev-distractor" ? "dev" : split;
  return `${dataset}:${part}`;
}
