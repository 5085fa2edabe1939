namespace Tessera.Serving.Metrics;

/// <summary>The batches of one size a model ran and their total nanoseconds merging inputs, computing and splitting outputs.</summary>
internal readonly record struct BatchTimes(int Rows, long Count, long InputNs, long InferNs, long OutputNs);
