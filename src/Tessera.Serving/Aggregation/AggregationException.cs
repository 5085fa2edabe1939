namespace Tessera.Serving.Aggregation;

/// <summary>
/// Member outputs that cannot be combined (shape or element type mismatch, an element type the aggregation does
/// not define) or an invalid <see cref="AggregationSpec"/>. The message is one line naming the member and the reason.
/// </summary>
public sealed class AggregationException(string message) : Exception(message);
