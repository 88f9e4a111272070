import { describe, expect, it } from 'vitest';
import { absDifference, heatmapOverInput, hot } from './heatmap.js';
import { type ResultRow, rowsToCsv, sortRows } from './results.js';

const rows: ResultRow[] = [
  { name: 'b.png', score: 0.2, flagged: false, reconL1: 0.01, reconL1WorstCell: 0.05 },
  { name: 'bad, "quoted".png', error: 'not an image (not PNG, JPEG or DICOM)' },
  { name: 'a.png', score: 0.9, flagged: true, reconL1: 0.03, reconL1WorstCell: 0.02 },
];

describe('viewer results', () => {
  it('sorts by any column, unreadable files last', () => {
    expect(sortRows(rows, 'score', true).map((r) => r.name)).toEqual(['a.png', 'b.png', 'bad, "quoted".png']);
    expect(sortRows(rows, 'score', false).map((r) => r.name)).toEqual([
      'b.png',
      'a.png',
      'bad, "quoted".png',
    ]);
    expect(sortRows(rows, 'name', false).map((r) => r.name)).toEqual(['a.png', 'b.png', 'bad, "quoted".png']);
    expect(sortRows(rows, 'reconL1WorstCell', true)[0].name).toBe('b.png');
  });

  it('exports CSV with full-precision numbers and quoted fields', () => {
    expect(rowsToCsv(rows, 0.5).split('\n')).toEqual([
      'file,score,anomalous,threshold,recon_l1,recon_l1_worst_cell,error',
      'b.png,0.2,false,0.5,0.01,0.05,',
      '"bad, ""quoted"".png",,,0.5,,,"not an image (not PNG, JPEG or DICOM)"',
      'a.png,0.9,true,0.5,0.03,0.02,',
      '',
    ]);
  });

  it('heat map: the hot colours, and the largest difference fully coloured over the input', () => {
    expect(hot(0)).toEqual([0, 0, 0]);
    expect(hot(1)).toEqual([255, 255, 255]);
    expect(hot(0.5)).toEqual([255, 128, 0]);
    const input = Float32Array.from([0.5, 0.5]);
    const diff = absDifference(input, Float32Array.from([0.5, 0.9]));
    expect(Array.from(diff)).toEqual([0, Math.fround(0.9) - Math.fround(0.5)]);
    const rgba = heatmapOverInput(input, diff);
    expect(Array.from(rgba.subarray(4, 8))).toEqual([255, 255, 255, 255]);
    // no difference: the input, barely tinted
    expect(rgba[3]).toBe(255);
    expect(Math.abs(rgba[0] - 127.5)).toBeLessThan(25);
  });
});
