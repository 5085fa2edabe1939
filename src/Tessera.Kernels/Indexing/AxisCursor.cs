namespace Tessera.Kernels.Indexing;

/// <summary>
/// Walks the positions of an index tensor in row-major order while tracking the matching offset into a data
/// tensor with every coordinate but the indexed axis (which the caller adds from the index value).
/// </summary>
internal struct AxisCursor(int[] walkShape, int[] dataStrides, int axis)
{
    private readonly int[] _coord = new int[walkShape.Length];

    /// <summary>Data offset of the current position, excluding the axis coordinate.</summary>
    public int Base { get; private set; }

    public void Next()
    {
        for (int d = walkShape.Length - 1; d >= 0; d--)
        {
            int stride = d == axis ? 0 : dataStrides[d];
            Base += stride;
            if (++_coord[d] < walkShape[d])
            {
                return;
            }

            Base -= walkShape[d] * stride;
            _coord[d] = 0;
        }
    }
}
