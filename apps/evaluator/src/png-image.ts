import { PNG } from 'pngjs';

/** An RGB image, row-major `[H, W, 3]` bytes. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A blank RGB image filled with one colour. */
export function blankRgb(
  width: number,
  height: number,
  fill: [number, number, number] = [255, 255, 255],
): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(fill, i * 3);
  return { width, height, data };
}

/** Encodes an RGB image as PNG bytes. */
export function encodePng(image: RgbImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  for (let i = 0; i < image.width * image.height; i++) {
    png.data[i * 4] = image.data[i * 3];
    png.data[i * 4 + 1] = image.data[i * 3 + 1];
    png.data[i * 4 + 2] = image.data[i * 3 + 2];
    png.data[i * 4 + 3] = 255;
  }
  return PNG.sync.write(png);
}

/** Decodes PNG bytes to RGB (alpha dropped). */
export function decodePng(bytes: Uint8Array): RgbImage {
  const png = PNG.sync.read(Buffer.from(bytes));
  const data = new Uint8Array(png.width * png.height * 3);
  for (let i = 0; i < png.width * png.height; i++) {
    data[i * 3] = png.data[i * 4];
    data[i * 3 + 1] = png.data[i * 4 + 1];
    data[i * 3 + 2] = png.data[i * 4 + 2];
  }
  return { width: png.width, height: png.height, data };
}
