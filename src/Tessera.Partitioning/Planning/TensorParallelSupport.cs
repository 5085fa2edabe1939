namespace Tessera.Partitioning.Planning;

/// <summary>
/// Whether this build can materialise tensor-parallel stages. The rewrite that shards a stage lands separately
/// (Partitioning/TensorParallel); until it does, tensor-parallel candidates are estimated but not chosen.
/// </summary>
internal static class TensorParallelSupport
{
    public const bool Available = false;

    public const string Missing = "estimate only: the tensor-parallel rewrite is not in this build yet";
}
