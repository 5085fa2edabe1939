using Tessera.Tensors;

namespace Tessera.Kernels.Core;

/// <summary>
/// Storage the caller of a run supplies for a graph output, so that the kernel producing it writes there directly
/// instead of into the executor's arena followed by a copy out (for a decoder's logits, megabytes per run).
/// </summary>
internal interface IGraphOutputProvider
{
    /// <summary>
    /// A tensor of exactly <paramref name="dataType"/> and <paramref name="shape"/> for graph output
    /// <paramref name="outputIndex"/>, with contents the kernel may overwrite; null to use the executor's storage.
    /// </summary>
    Tensor? Provide(int outputIndex, DataType dataType, ReadOnlySpan<int> shape);
}
