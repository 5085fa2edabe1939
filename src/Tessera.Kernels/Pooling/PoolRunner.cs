using System.Buffers;
using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Pooling;

/// <summary>Splits a pool over threads by output rows and hands each range to <see cref="SeparablePool"/>.</summary>
internal static unsafe class PoolRunner
{
    // Roughly how many input elements a thread should touch before another thread is worth waking.
    private const int MinWorkPerChunk = 32768;

    public static void Run<T, TOp>(ParallelRunner parallel, PoolGeometry g, Tensor input, Tensor output, AverageDivisors<T>? divisors)
        where T : unmanaged, INumber<T>
        where TOp : struct, IPoolReduction<T>
    {
        int rows = g.Planes * g.Out(0) * g.Out(1);
        if (rows == 0 || g.Out(2) == 0 || g.InputPlaneSize == 0)
        {
            return;
        }

        long workPerRow = (long)(g.Kernel(0) * g.Kernel(1) + g.Kernel(2)) * g.In(2);
        int minChunk = (int)Math.Clamp(MinWorkPerChunk / Math.Max(1, workPerRow), 1, rows);
        parallel.ForRange(rows, minChunk, (start, end) =>
        {
            T[] scratch = ArrayPool<T>.Shared.Rent(g.In(2));
            try
            {
                SeparablePool.Run<T, TOp>(g, (T*)input.Pointer, (T*)output.Pointer, start, end, scratch, divisors);
            }
            finally
            {
                ArrayPool<T>.Shared.Return(scratch);
            }
        });
    }
}
