using Tessera.Kernels.Core;
using Tessera.Onnx.Graph;
using Tessera.Tensors;

namespace Tessera.Tests.Kernels.Reduction;

/// <summary>Builds one kernel through the default registry and computes it on given inputs.</summary>
internal static class KernelHarness
{
    public static Tensor[] Run(string opType, int opset, IEnumerable<NodeAttribute> attributes, Tensor?[] inputs, int outputs, int degree)
    {
        var parallel = new ParallelRunner(degree);
        Assert.True(KernelRegistry.Default.TryResolve(string.Empty, opType, opset, out var factory), $"{opType} {opset} is not registered");
        var info = new KernelInfo(opType, string.Empty, opset, "test", inputs.Length, outputs,
            attributes.ToDictionary(a => a.Name), _ => null, parallel);
        var kernel = factory(info);
        var context = new KernelContext(inputs, outputs, Enumerable.Repeat(true, outputs).ToArray(), parallel);
        kernel.Compute(context);
        return Enumerable.Range(0, outputs).Select(i => context.Output(i) ?? throw new InvalidOperationException($"output {i} missing")).ToArray();
    }

    public static NodeAttribute Int(string name, long value) => new() { Name = name, Kind = AttributeKind.Int, Int = value };

    public static NodeAttribute Ints(string name, params long[] values) => new() { Name = name, Kind = AttributeKind.Ints, Ints = values };

    /// <summary>Whether actual is within atol + rtol * |expected| (NaN matches NaN, infinities must be equal).</summary>
    public static bool IsClose(double expected, double actual, double rtol, double atol = 1e-6)
    {
        if (double.IsNaN(expected) || double.IsInfinity(expected))
        {
            return expected.Equals(actual);
        }

        return Math.Abs(expected - actual) <= atol + rtol * Math.Abs(expected);
    }

    /// <summary>A random shape of the given rank with dimensions from 1 to maxDim, at most one of them larger to reach vector tails.</summary>
    public static int[] RandomShape(Random random, int rank, int maxDim)
    {
        var shape = new int[rank];
        int wide = rank > 0 && random.Next(3) == 0 ? random.Next(rank) : -1;
        for (int i = 0; i < rank; i++)
        {
            shape[i] = i == wide ? random.Next(17, 70) : random.Next(1, maxDim + 1);
        }

        return shape;
    }

    public static float[] RandomFloats(Random random, int count, double scale = 2)
    {
        var data = new float[count];
        for (int i = 0; i < count; i++)
        {
            data[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        }

        return data;
    }
}
