namespace Tessera.Kernels.Quantization;

/// <summary>
/// How many 8-column halves of packed panels a <see cref="QgemmTile4x24{TStep, THalves}"/> multiplies (1 to 3): a
/// struct, so each count is compiled into a tile of its own with the unused halves' work left out.
/// </summary>
internal interface IQgemmHalfCount
{
    static abstract int Count { get; }
}
