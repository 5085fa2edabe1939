using System.Buffers;
using System.Numerics;
using Tessera.Kernels.Core;
using Tessera.Tensors;

namespace Tessera.Kernels.Pooling;

/// <summary>Splits a pool over threads, by whole planes for <see cref="PlanePool"/> or by output rows for <see cref="SeparablePool"/>.</summary>
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

        if (PlanePool.Applies(g) && g.Planes * g.Out(0) >= parallel.Degree)
        {
            int slices = g.Planes * g.Out(0);
            int bufferLength = g.Out(1) * g.In(2);
            long workPerSlice = (long)(g.Kernel(1) + g.Kernel(2)) * bufferLength;
            var planeBody = new PlaneBody<T, TOp>(g, input, output, divisors, bufferLength);
            parallel.ForRange(slices, (int)Math.Clamp(MinWorkPerChunk / Math.Max(1, workPerSlice), 1, slices), ref planeBody);
            return;
        }

        long workPerRow = (long)(g.Kernel(0) * g.Kernel(1) + g.Kernel(2)) * g.In(2);
        int minChunk = (int)Math.Clamp(MinWorkPerChunk / Math.Max(1, workPerRow), 1, rows);
        var rowBody = new RowBody<T, TOp>(g, input, output, divisors);
        parallel.ForRange(rows, minChunk, ref rowBody);
    }

    private readonly struct PlaneBody<T, TOp>(PoolGeometry g, Tensor input, Tensor output, AverageDivisors<T>? divisors, int bufferLength) : IRangeBody
        where T : unmanaged, INumber<T>
        where TOp : struct, IPoolReduction<T>
    {
        public void Invoke(int start, int end)
        {
            T[] vertical = ArrayPool<T>.Shared.Rent(bufferLength);
            T[] horizontal = ArrayPool<T>.Shared.Rent(bufferLength);
            try
            {
                PlanePool.Run<T, TOp>(g, (T*)input.Pointer, (T*)output.Pointer, start, end, vertical, horizontal, divisors);
            }
            finally
            {
                ArrayPool<T>.Shared.Return(vertical);
                ArrayPool<T>.Shared.Return(horizontal);
                GC.KeepAlive(input);
                GC.KeepAlive(output);
            }
        }
    }

    private readonly struct RowBody<T, TOp>(PoolGeometry g, Tensor input, Tensor output, AverageDivisors<T>? divisors) : IRangeBody
        where T : unmanaged, INumber<T>
        where TOp : struct, IPoolReduction<T>
    {
        public void Invoke(int start, int end)
        {
            T[] scratch = ArrayPool<T>.Shared.Rent(g.In(2));
            try
            {
                SeparablePool.Run<T, TOp>(g, (T*)input.Pointer, (T*)output.Pointer, start, end, scratch, divisors);
            }
            finally
            {
                ArrayPool<T>.Shared.Return(scratch);

                // The raw pointers do not keep the tensors' storage alive on their own.
                GC.KeepAlive(input);
                GC.KeepAlive(output);
            }
        }
    }
}
