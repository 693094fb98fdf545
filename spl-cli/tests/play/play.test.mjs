// Browser test of `spl play` (run by run.sh): types a pipeline with an error and checks the
// squiggle and its message, fixes it and checks the output rows, clicks the `where` stage and
// checks a dropped row's reason, clicks that row and checks its trace. Writes screenshots.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const [url, outDir, executablePath] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("pageerror", (e) => { console.error("page error:", e); process.exitCode = 1; });
  await page.goto(url);
  await page.waitForSelector("body[data-runs]");

  // 1. A pipeline with an error: a squiggle at the span, the code and the message.
  await page.fill("#spl", "* | wher cast(status as bigint) >= 500 | project status, uri");
  await page.waitForSelector("#diagnostics .diag.error");
  const squiggle = (await page.textContent("#highlight .squiggle.error")).trim();
  assert.ok(squiggle.length > 0, "no squiggle");
  assert.ok("* | wher cast(status as bigint) >= 500".includes(squiggle), `squiggle on ${squiggle}`);
  const code = await page.getAttribute("#diagnostics .diag.error", "data-code");
  assert.match(code, /^E\d{4}$/);
  const message = await page.textContent("#diagnostics .diag.error .message");
  assert.ok(message.length > 5, `message: ${message}`);
  console.log(`diagnostic ${code} on \`${squiggle}\`: ${message}`);
  await page.screenshot({ path: `${outDir}/play-error.png` });

  // 2. Fixed: the output table has the right rows.
  await page.fill("#spl", "* | where cast(status as bigint) >= 500 | project status, uri");
  await page.waitForFunction(() => !document.querySelector("#diagnostics .diag") &&
    document.querySelectorAll("#outputs tr.row").length > 0);
  const rows = await page.$$eval("#outputs tr.row", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.deepEqual(rows, [["500", "/login"], ["503", "/api"]]);
  console.log("output rows:", JSON.stringify(rows));

  // 3. The `where` stage: its dropped rows with their reason.
  await page.click("#stages .stage[data-index='0']");
  await page.waitForSelector("#stage-rows tr.step.dropped");
  const reason = await page.textContent("#stage-rows tr.step.dropped .reason");
  assert.match(reason, /`CAST\(status AS BIGINT\) >= 500` is not true|is not true/i);
  assert.ok(reason.includes('status="200"'), `reason: ${reason}`);
  console.log("dropped row reason:", reason);

  // 4. A dropped row's trace.
  await page.click("#stage-rows tr.step.dropped");
  await page.waitForFunction(() => document.querySelector("#trace").textContent.includes("dropped"));
  const trace = await page.textContent("#trace");
  assert.ok(trace.includes("reaches no output"), trace);
  await page.screenshot({ path: `${outDir}/play.png`, fullPage: true });
  console.log(`screenshots: ${outDir}/play.png, ${outDir}/play-error.png`);
} finally {
  await browser.close();
}
