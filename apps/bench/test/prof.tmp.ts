import { reportFromColumns } from "../src/report/data";
import { renderHtml } from "../src/report/html";
import { renderMarkdown } from "../src/report/markdown";
import { rationaleQualityFrom, scanScored } from "../src/report/rationale-quality";
import { readRewardTable } from "../src/report/reward-table";

const mb = (x: number) => (x / 1048576).toFixed(0);
let t = performance.now();
const log = (s: string) => {
  const m = process.memoryUsage();
  console.log(
    s,
    ((performance.now() - t) / 1000).toFixed(1) + "s",
    "rss",
    mb(m.rss),
    "heap",
    mb(m.heapUsed),
    "ext",
    mb(m.external),
    "peak",
    mb(process.resourceUsage().maxRSS * 1024),
  );
  t = performance.now();
};
const dir = process.argv[2]!;
log("start");
const rewards = await readRewardTable(dir);
log("rewards");
const scored = await scanScored(dir, rewards);
log("scan");
const data = await reportFromColumns(dir, scored.c, {});
log("data");
const rq = rationaleQualityFrom(scored, data.minClaimN);
log("rq");
if (rq) data.rationaleQuality = rq;
const json = JSON.stringify(data, null, 2);
log("json " + json.length);
renderMarkdown(data);
log("md");
try {
  renderHtml(data);
  log("html");
} catch (e) {
  console.log("html failed", (e as Error).message);
}
