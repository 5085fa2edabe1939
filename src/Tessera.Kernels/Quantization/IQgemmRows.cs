namespace Tessera.Kernels.Quantization;

/// <summary>
/// Where the integer GEMM's A rows come from: a matrix, or a convolution's input unfolded on the fly (so im2col
/// costs no buffer of its own). Called from several threads at once for different rows; must not mutate itself.
/// </summary>
internal unsafe interface IQgemmRows
{
    /// <summary>
    /// Writes rows [row, row + count) as unsigned bytes (int8 values shifted by +128), K per row, rows
    /// <paramref name="stride"/> bytes apart, and each row's sum of the written values to <paramref name="sums"/>.
    /// </summary>
    void Pack(int row, int count, byte* destination, int stride, int* sums);
}
