using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Elementwise;

/// <summary>Applies a unary operator over a whole tensor, in contiguous chunks spread over the runner's threads.</summary>
internal static class UnaryDriver
{
    /// <summary>Elements per thread below which splitting costs more than it saves for cheap operators.</summary>
    public const int CheapChunk = 32768;

    /// <summary>Chunk for transcendental operators, whose per-element cost is several times higher.</summary>
    public const int CostlyChunk = 8192;

    public static void Run<TIn, TOut, TOp>(TOp op, Tensor input, Tensor output, ParallelRunner parallel, int minChunk = CheapChunk)
        where TIn : unmanaged
        where TOut : unmanaged
        where TOp : struct, IUnarySpanOperator<TIn, TOut>
    {
        int n = output.Length;
        if (n == 0)
        {
            return;
        }

        if (parallel.Degree == 1 || n < 2 * minChunk)
        {
            op.Invoke(input.Span<TIn>(), output.Span<TOut>());
            return;
        }

        var body = new Body<TIn, TOut, TOp>(op, input, output);
        parallel.ForRange(n, minChunk, ref body);
    }

    private readonly struct Body<TIn, TOut, TOp>(TOp op, Tensor input, Tensor output) : IRangeBody
        where TIn : unmanaged
        where TOut : unmanaged
        where TOp : struct, IUnarySpanOperator<TIn, TOut>
    {
        public void Invoke(int start, int end) => op.Invoke(input.Span<TIn>()[start..end], output.Span<TOut>()[start..end]);
    }
}
