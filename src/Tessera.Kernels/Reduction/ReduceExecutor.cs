using System.Numerics;
using System.Numerics.Tensors;
using Tessera.Kernels.Core;
using Tessera.Tensors;
using Tensor = Tessera.Tensors.Tensor;

namespace Tessera.Kernels.Reduction;

/// <summary>Runs a <see cref="ReducePlan"/> for one element type: the passes, then the mean or square-root finish.</summary>
internal static class ReduceExecutor
{
    public static void Run<T>(ReduceKind kind, ReducePlan plan, Tensor input, Tensor output, ParallelRunner parallel)
        where T : unmanaged, INumber<T>
    {
        switch (kind)
        {
            case ReduceKind.Sum:
                Passes<T, SumOp<T>, SumOp<T>>(plan, input, output, parallel);
                break;
            case ReduceKind.Mean:
                Passes<T, SumOp<T>, SumOp<T>>(plan, input, output, parallel);
                Divide<T>(output.Span<T>(), plan.ReducedCount);
                break;
            case ReduceKind.Max:
                Passes<T, MaxOp<T>, MaxOp<T>>(plan, input, output, parallel);
                break;
            case ReduceKind.Min:
                Passes<T, MinOp<T>, MinOp<T>>(plan, input, output, parallel);
                break;
            case ReduceKind.Prod:
                Passes<T, ProdOp<T>, ProdOp<T>>(plan, input, output, parallel);
                break;
            case ReduceKind.SumSquare:
                Passes<T, SumSquareOp<T>, SumOp<T>>(plan, input, output, parallel);
                break;
            case ReduceKind.L2:
                Passes<T, SumSquareOp<T>, SumOp<T>>(plan, input, output, parallel);
                Sqrt<T>(output.Span<T>());
                break;
            default:
                throw new KernelException($"unknown reduction {kind}");
        }
    }

    private static void Passes<T, TFirst, TNext>(ReducePlan plan, Tensor input, Tensor output, ParallelRunner parallel)
        where T : unmanaged, INumber<T>
        where TFirst : IReduceOp<T>
        where TNext : IReduceOp<T>
    {
        if (plan.OutputLength == 0)
        {
            return;
        }

        if (plan.Passes.Length == 0)
        {
            output.Span<T>().Fill(TFirst.Identity);
            return;
        }

        var current = input;
        for (int p = 0; p < plan.Passes.Length; p++)
        {
            var (outer, reduced, inner) = plan.Passes[p];
            var next = p == plan.Passes.Length - 1 ? output : Tensor.Allocate(input.DataType, [outer * inner]);
            if (p == 0)
            {
                ReduceLoops.Pass<T, TFirst>(current, next, outer, reduced, inner, parallel);
            }
            else
            {
                ReduceLoops.Pass<T, TNext>(current, next, outer, reduced, inner, parallel);
            }

            current = next;
        }
    }

    private static void Divide<T>(Span<T> values, long count) where T : unmanaged, INumber<T>
    {
        if (IsFloat<T>())
        {
            TensorPrimitives.Divide(values, T.CreateChecked(count), values);
            return;
        }

        // Integer means truncate like NumPy's mean cast back to the type; an empty mean (0/0) becomes zero.
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = count == 0 ? T.Zero : T.CreateTruncating(double.CreateTruncating(values[i]) / count);
        }
    }

    private static void Sqrt<T>(Span<T> values) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(float))
        {
            var f = System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(values);
            TensorPrimitives.Sqrt(f, f);
        }
        else if (typeof(T) == typeof(double))
        {
            var d = System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(values);
            TensorPrimitives.Sqrt(d, d);
        }
        else
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = T.CreateTruncating(Math.Sqrt(double.CreateTruncating(values[i])));
            }
        }
    }

    private static bool IsFloat<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(Half);
}
