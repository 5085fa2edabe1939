namespace Tessera.Kernels.Core;

/// <summary>A node cannot be built or computed: bad attributes, or inputs of the wrong type or shape.</summary>
public sealed class KernelException(string message) : Exception(message);
