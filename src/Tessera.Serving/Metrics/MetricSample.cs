namespace Tessera.Serving.Metrics;

/// <summary>One series of a counter or gauge: its label pairs (string values, in the order the text shows them) and its value.</summary>
internal readonly record struct MetricSample(KeyValuePair<string, object?>[] Labels, double Value);
