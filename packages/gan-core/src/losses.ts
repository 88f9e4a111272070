import { tf } from '@squid-ad/backend';

/** Mean squared error over all elements (PyTorch `MSELoss()`, reduction mean). */
export function mse(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(a, b)) as tf.Scalar);
}

/**
 * Mean binary cross-entropy on logits (PyTorch `BCEWithLogitsLoss()`): per element
 * `max(x, 0) − x·y + log(1 + e^{−|x|})`, gradient `(sigmoid(x) − y) / N` (exact also at x = 0).
 */
export function bceWithLogits(logits: tf.Tensor, target: number | tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const y =
      typeof target === 'number' ? tf.fill(logits.shape, target) : tf.broadcastTo(target, logits.shape);
    const loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x, t, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      save([x, t]);
      const perElement = tf.add(tf.sub(tf.relu(x), tf.mul(x, t)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
      return {
        value: tf.mean(perElement) as tf.Scalar,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, ts] = saved;
          const n = xs.size;
          const dx = tf.mul(tf.div(tf.sub(tf.sigmoid(xs), ts), n), dy);
          const dt = tf.mul(tf.div(tf.neg(xs), n), dy);
          return [dx, dt];
        },
      };
    });
    return loss(logits, y) as tf.Scalar;
  });
}

/** SQUID's distillation loss: the sum over decoder levels of MSE(student level, teacher level). */
export function distillationLoss(student: tf.Tensor[], teacher: tf.Tensor[]): tf.Scalar {
  if (student.length !== teacher.length) {
    throw new Error(
      `distillationLoss: ${student.length} student levels but ${teacher.length} teacher levels`,
    );
  }
  return tf.tidy(() => tf.addN(student.map((s, i) => mse(s, teacher[i]))) as tf.Scalar);
}
