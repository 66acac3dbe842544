import { tf } from '../tf';
import { StudentBase, dense, embedMasked } from './base';
import { lookupMean } from './sparseLookup';
import type { StudentConfig, StudentOutput } from './types';

/**
 * fastText-style classifier: the mean of the token (and hashed n-gram) embeddings over
 * non-padding positions is the feature vector, followed by dropout and one dense layer.
 */
export class BagStudent extends StudentBase {
  readonly featureDim: number;
  private readonly embedding: tf.Variable<tf.Rank.R2>;
  private readonly outputKernel: tf.Variable<tf.Rank.R2>;
  private readonly outputBias: tf.Variable<tf.Rank.R1>;

  constructor(config: StudentConfig, seed: number) {
    super(config, seed);
    const { vocabSize, embeddingDim, numClasses } = config;
    this.featureDim = embeddingDim;
    this.embedding = this.addWeight('embedding', this.embeddingTable(vocabSize, embeddingDim)) as tf.Variable<tf.Rank.R2>;
    this.outputKernel = this.addWeight('output/kernel', this.glorotUniform('output/kernel', embeddingDim, numClasses)) as tf.Variable<tf.Rank.R2>;
    this.outputBias = this.addWeight('output/bias', tf.zeros([numClasses])) as tf.Variable<tf.Rank.R1>;
  }

  protected forward(ids: tf.Tensor2D, dropoutSeed: string | undefined): StudentOutput {
    const features = lookupMean(this.embedding, ids) ?? this.maskedMean(ids);
    const logits = dense(this.dropout(features, dropoutSeed), this.outputKernel, this.outputBias);
    return { logits, features };
  }

  /** Averages the embeddings at non-padding positions with tensor ops, where lookupMean has no kernel. */
  private maskedMean(ids: tf.Tensor2D): tf.Tensor2D {
    const { embedded, mask } = embedMasked(this.embedding, ids);
    // Sequences of only padding get a zero vector instead of 0/0.
    const counts = tf.maximum(tf.sum(mask, 1, true), 1);
    return tf.div(tf.sum(embedded, 1), counts) as tf.Tensor2D;
  }
}
