using Tessera.Tensors;

namespace Tessera.Batch;

/// <summary>A batch job that cannot start or go on for a reason its user can fix; the message is one line.</summary>
public sealed class BatchException(string message) : Exception(UntrustedText.OneLine(message));
