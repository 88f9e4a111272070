// The browser entry of @squid-ad/datasets (the `browser` export condition): decoding PNG, JPEG
// and DICOM from bytes and resizing, without a `node:` import. `decodeImage` here is the JS
// decoders' (jpeg-js instead of Node's libjpeg-turbo: JPEG pixels may differ by a grey level).

export {
  DEFAULT_MAX_PIXELS,
  type DecodeOptions,
  type Decoder,
  decodeImageBytes,
  decodeImageBytes as decodeImage,
} from './decode-bytes.js';
export { BadImageError, type GreyImage } from './grey-image.js';
export { type ImageFormat, imageFormat } from './image-format.js';
export { type ImageFromBytesOptions, imageFromBytes } from './image-from-bytes.js';
export { type GreyImage8, pilResizeBilinear } from './pil-resize.js';
export { encodeGreyPng } from './png-codec.js';
export { type ResizeFilter, resize } from './resize.js';
