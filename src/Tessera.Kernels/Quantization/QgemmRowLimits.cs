namespace Tessera.Kernels.Quantization;

/// <summary>
/// What a causal attention's products may leave out, per row of each batch's matrix (the same rows in every batch):
/// <see cref="Columns"/>[i], the output columns row i needs (Q·Kᵀ: the tiles wholly beyond every row of a row tile are
/// neither multiplied nor stored, and their values are unspecified); <see cref="Depth"/>[i], the K extent of A's row i
/// past which its packed bytes are all 0 (P·V: P's masked columns, quantized with zero point 0), so a row tile's
/// micro-kernel runs only up to its rows' largest. Null pointers (the default) leave nothing out. The arrays are the
/// caller's and outlive the product.
/// </summary>
internal readonly unsafe struct QgemmRowLimits
{
    public int* Columns { get; init; }

    public int* Depth { get; init; }

    public bool IsNone => Columns is null && Depth is null;

    // The largest of rows [row, row + count) of a limit array.
    public static int Largest(int* limits, int row, int count)
    {
        int largest = 0;
        for (int i = row; i < row + count; i++) largest = Math.Max(largest, limits[i]);
        return largest;
    }
}
