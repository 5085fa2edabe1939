using System.Numerics;
using System.Numerics.Tensors;
using Tessera.Kernels.Core;
using Tessera.Tensors;
using Tensor = Tessera.Tensors.Tensor;

namespace Tessera.Kernels.Elementwise;

/// <summary>
/// Max, Min, Sum and Mean over any number of inputs, all broadcasting to one output: the first pair is combined
/// into the output, then each further input is folded into it in place. Mean divides the sum at the end.
/// </summary>
internal sealed class VariadicKernel<TOp>(string opType, TOp op, bool mean) : IKernel
    where TOp : struct, INumericBinaryOperator
{
    public void Compute(KernelContext context)
    {
        int count = context.InputCount;
        if (count == 0)
        {
            throw new KernelException($"{opType} needs at least one input");
        }

        var inputs = new Tensor[count];
        var shapes = new int[count][];
        for (int i = 0; i < count; i++)
        {
            inputs[i] = context.RequiredInput(i);
            ElementTypes.RequireSameType(opType, inputs[0], inputs[i]);
            shapes[i] = inputs[i].Shape;
        }

        if (count == 1)
        {
            context.SetOutput(0, inputs[0]);
            return;
        }

        int[] shape = BroadcastPlan.OutputShape(opType, shapes);
        var type = inputs[0].DataType;
        var output = context.AllocateOutput(0, type, shape);
        if (type == DataType.BFloat16)
        {
            for (int i = 0; i < count; i++) inputs[i] = BFloat16Widening.ToFloat(inputs[i]);
            var wide = Tensor.Allocate(DataType.Float32, shape);
            TypeDispatch.Numeric(DataType.Float32, new Action(op, inputs, wide, mean, context.Parallel));
            BFloat16Widening.Narrow(wide, output);
            return;
        }

        if (!TypeDispatch.Numeric(type, new Action(op, inputs, output, mean, context.Parallel)))
        {
            throw ElementTypes.Unsupported(opType, type);
        }
    }

    private readonly struct Action(TOp op, Tensor[] inputs, Tensor output, bool mean, ParallelRunner parallel) : INumericTypeAction
    {
        public void Invoke<T>() where T : unmanaged, INumber<T>
        {
            var binary = new NumericBinary<T, TOp>(op);
            BinaryDriver.Run<T, T, T, NumericBinary<T, TOp>>(binary, inputs[0], inputs[1], output, parallel);
            for (int i = 2; i < inputs.Length; i++)
            {
                BinaryDriver.Run<T, T, T, NumericBinary<T, TOp>>(binary, output, inputs[i], output, parallel);
            }

            if (mean)
            {
                var span = output.Span<T>();
                TensorPrimitives.Divide(span, T.CreateTruncating(inputs.Length), span);
            }
        }
    }
}
