#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { checkDataset } from './check-dataset.js';
import { writeDigitAnatomy } from './write-digit-anatomy.js';

const int =
  (name: string, min = 0) =>
  (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got '${v}'`);
    return n;
  };

/** The `squid-data` command line. */
function buildCli(): Command {
  const program = new Command('squid-data').description(
    'Data tools for squid: DigitAnatomy rendering, data set checks',
  );
  // Usage errors (a bad option value) must not look like `check`'s "found bad files" (exit 1):
  // they exit 2 like every other error here. Set before the subcommands, which inherit it.
  program.exitOverride();
  program
    .command('digitanatomy')
    .description('render a DigitAnatomy set: DIR/normal, DIR/abnormal/<type>, DIR/masks, DIR/manifest.json')
    .requiredOption('--out <dir>', 'output directory')
    .option('--seed <n>', 'random seed', int('--seed'), 0)
    .option('--normal <n>', 'number of normal images', int('--normal'), 100)
    .option(
      '--abnormal <n>',
      'number of abnormal images (types cycle missing, swap, flip, zero)',
      int('--abnormal'),
      100,
    )
    .option('--cell <px>', 'cell side in pixels (image side = 3·cell)', int('--cell', 8), 32)
    .action(async (o: { out: string; seed: number; normal: number; abnormal: number; cell: number }) => {
      const manifest = await writeDigitAnatomy(o.out, o);
      console.log(`wrote ${manifest.length} images of ${3 * o.cell}×${3 * o.cell} to ${o.out}`);
    });
  program
    .command('check')
    .description('decode every image of a data set; list counts, sizes and bad files (exit 1 if any)')
    .argument('<dir>', 'data set root')
    .option('--layout <layout>', 'folder | zhanglab | chexpert (default: detect)')
    .option('--max-pixels <n>', 'refuse larger images', int('--max-pixels', 1))
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, o: { layout?: string; maxPixels?: number; json?: boolean }) => {
      if (o.layout && !['folder', 'zhanglab', 'chexpert'].includes(o.layout)) {
        throw new InvalidArgumentError(`--layout must be folder, zhanglab or chexpert, got '${o.layout}'`);
      }
      const report = await checkDataset(dir, {
        layout: o.layout as 'folder' | 'zhanglab' | 'chexpert' | undefined,
        maxPixels: o.maxPixels,
        // Large sets take minutes: show progress on a terminal only (never in captured output).
        onProgress: process.stderr.isTTY
          ? (done) => {
              if (done % 500 === 0) process.stderr.write(`\r${done} files checked`);
            }
          : undefined,
      });
      if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
      if (o.json) console.log(JSON.stringify(report, null, 1));
      else {
        console.log(`${report.root}: layout ${report.layout}`);
        for (const [split, c] of Object.entries(report.counts)) {
          console.log(`  ${split}: ${c.normal} normal, ${c.abnormal} abnormal`);
        }
        const s = report.size;
        console.log(
          s
            ? `  size: width ${s.minWidth}–${s.maxWidth}, height ${s.minHeight}–${s.maxHeight}`
            : '  size: no readable image',
        );
        console.log(`  bad files: ${report.bad.length}`);
        for (const b of report.bad) console.log(`    ${b.path}: ${b.reason}`);
      }
      if (report.bad.length > 0) process.exitCode = 1;
    });
  return program;
}

buildCli()
  .parseAsync(process.argv)
  .catch((err: Error) => {
    if (err instanceof CommanderError) {
      // commander printed the message (or the help) already
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    console.error(`squid-data: ${err.message}`);
    process.exitCode = 2;
  });
