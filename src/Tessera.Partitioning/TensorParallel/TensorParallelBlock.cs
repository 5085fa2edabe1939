namespace Tessera.Partitioning.TensorParallel;

/// <summary>
/// A group of split layers with its collectives per run: <see cref="ColumnNodes"/> (split by columns or heads) feed
/// <see cref="RowNodes"/> (split by rows) without any collective in between. <see cref="Heads"/> is the attention's
/// head count (0 for other kinds). <see cref="Note"/> says, for a lone split, why it does not start a block.
/// </summary>
public sealed record TensorParallelBlock(int Index, TensorParallelBlockKind Kind, IReadOnlyList<string> ColumnNodes,
    IReadOnlyList<string> RowNodes, int Heads, int AllReduces, int AllGathers, string Note = "");
