/** `incident show` of a long incident: its beginning and its latest events, and how many are left out between. */
import { Harness } from '../harness/harness';

it('keeps the report and the first page, the latest events, and says how many it leaves out', async () => {
  const h = await Harness.start();
  try {
    await h.run('zed', 'incident report sev2 checkout down');
    for (let i = 1; i <= 40; i++) await h.run('dave', `incident note 1 clue ${i}`);
    const lines = (await h.run('carol', 'incident show 1')).split('\n');
    expect(lines.find((l) => /reported by zed/.test(l))).toBeDefined();
    expect(lines.find((l) => /paged Dave/.test(l))).toBeDefined();
    // 42 events (report, page, 40 notes): 3 first, 26 latest, 13 left out.
    expect(lines.filter((l) => /… 13 more events in between, not shown …/.test(l))).toHaveLength(1);
    expect(lines.some((l) => /clue 40$/.test(l))).toBe(true);
    expect(lines.some((l) => /clue 15$/.test(l))).toBe(true);
    expect(lines.some((l) => /clue 14$/.test(l))).toBe(false);
    expect(lines.some((l) => /clue 1$/.test(l))).toBe(true);
  } finally {
    await h.stop();
  }
});
