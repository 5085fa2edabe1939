namespace Tessera.Kernels.Core;

/// <summary>
/// The work of a parallel loop over contiguous index ranges, as a struct so that
/// <see cref="ParallelRunner.ForRange{TBody}(int, int, ref TBody)"/> runs it without allocating.
/// </summary>
/// <remarks>Several threads call <see cref="Invoke"/> at once on the same value: bodies must not mutate their own fields.</remarks>
public interface IRangeBody
{
    void Invoke(int start, int end);
}
