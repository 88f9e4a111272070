export { writeFileAtomic } from '@squid-ad/backend';
export { type AffineOptions, affineSchema, augmentAffine, CHEST_AUGMENT } from './augment.js';
export { type CheckLayout, type CheckReport, checkDataset } from './check-dataset.js';
export {
  type CheXpertLabelOptions,
  type CheXpertLayout,
  type CheXpertOptions,
  cheXpertDataset,
  cheXpertItems,
  readCheXpertCsv,
} from './chexpert-dataset.js';
export {
  type Batch,
  type BatchOptions,
  batchOptionsSchema,
  type DatasetItem,
  type DatasetOptions,
  ImageDataset,
  type ItemLoader,
  type Label,
  type Position,
  type Sample,
} from './dataset.js';
export { decodeImageBytes } from './decode-bytes.js';
export {
  DEFAULT_MAX_PIXELS,
  type DecodeOptions,
  type Decoder,
  decodeImage,
  decodeImageAsync,
} from './decode-image.js';
export {
  ANOMALY_TYPES,
  type AnomalyType,
  type DigitAnatomyDatasetOptions,
  type DigitAnatomyOptions,
  type DigitAnatomySample,
  digitAnatomyDataset,
  digitAnatomyStream,
  digitAnatomyTestSet,
  type FlipAxis,
  makeAbnormal,
  makeNormal,
} from './digit-anatomy.js';
export { type FileDatasetOptions, fileDataset, fileDatasetSchema } from './file-dataset.js';
export { type FolderDatasetOptions, folderDataset, folderItems } from './folder-dataset.js';
export { BadImageError, type GreyImage } from './grey-image.js';
export { type ImageFormat, imageFormat } from './image-format.js';
export { type ImageFromBytesOptions, imageFromBytes } from './image-from-bytes.js';
export { listFiles } from './list-files.js';
export { type LoadImageOptions, loadImage } from './load-image.js';
export { digitInstances, MNIST_SIDE, mnistDigits } from './mnist-digits.js';
export { type DatasetKind, type OpenDatasetOptions, openDataset, PRESET_IMAGE_SIZE } from './open-dataset.js';
export { type GreyImage8, pilResizeBilinear } from './pil-resize.js';
export { encodeGreyPng } from './png-codec.js';
export { randomResizedCrop, type SquareCrop } from './random-resized-crop.js';
export { type ResizeFilter, resize } from './resize.js';
export { type SplitOptions, splitOptionsSchema } from './splits.js';
export { type ManifestEntry, writeDigitAnatomy } from './write-digit-anatomy.js';
export {
  type SplitName,
  type ZhangLabLayout,
  type ZhangLabOptions,
  zhangLabDataset,
  zhangLabItems,
} from './zhanglab-dataset.js';
