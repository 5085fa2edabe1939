using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Indexing;

/// <summary>
/// Trilu (opset 14): keeps the upper (j - i >= k) or lower (j - i <= k) triangle of each trailing matrix and
/// zeroes the rest. Each row is one kept contiguous run plus zeros, so rows are copied, never tested per element.
/// </summary>
internal sealed class TriluKernel(bool upper) : IKernel
{
    public void Compute(KernelContext context)
    {
        var input = context.RequiredInput(0, "input");
        if (input.Rank < 2)
        {
            throw new KernelException($"Trilu needs input of rank 2 or more, not {input.Rank}");
        }

        var kTensor = context.Input(1);
        if (kTensor is not null && kTensor.Length != 1)
        {
            throw new KernelException($"Trilu k must hold one value, not shape {ShapeMath.Format(kTensor.Shape)}");
        }

        long k = kTensor is null ? 0 : ScalarValues.ReadInt64(kTensor, 0);
        var output = context.AllocateOutput(0, input.DataType, input.Shape);
        int rows = input.Shape[^2];
        int cols = input.Shape[^1];
        int matrices = input.Length == 0 ? 0 : input.Length / (rows * cols);
        var zero = ScalarValues.Make(input.DataType, 0);
        for (int m = 0; m < matrices; m++)
        {
            for (int i = 0; i < rows; i++)
            {
                // Kept columns are [keepStart, keepEnd); the rest of the row is zero.
                long keepStart = upper ? Math.Clamp(i + k, 0, cols) : 0;
                long keepEnd = upper ? cols : Math.Clamp(i + k + 1, 0, cols);
                long row = ((long)m * rows + i) * cols;
                Fill(output, row, keepStart, zero);
                TensorElements.Copy(input, row + keepStart, output, row + keepStart, keepEnd - keepStart);
                Fill(output, row + keepEnd, cols - keepEnd, zero);
            }
        }
    }

    private static void Fill(Tensor output, long start, long count, Tensor zero)
    {
        if (count <= 0)
        {
            return;
        }

        if (output.DataType == DataType.String)
        {
            output.Strings.AsSpan((int)start, (int)count).Fill(zero.Strings[0]);
        }
        else
        {
            output.Bytes.Slice((int)(start * output.ElementSize), (int)(count * output.ElementSize)).Clear();
        }
    }
}
