using Tessera.Kernels.Core;

namespace Tessera.Kernels.Reduction;

/// <summary>Registers the Reduction operator family.</summary>
public static class ReductionKernels
{
    public static void Register(KernelRegistry registry)
    {
        RegisterAll(registry, "ReduceSum", [1, 11, 13], info => new ReduceKernel(info, ReduceKind.Sum));
        RegisterAll(registry, "ReduceMean", [1, 11, 13, 18], info => new ReduceKernel(info, ReduceKind.Mean));
        RegisterAll(registry, "ReduceMax", [1, 11, 12, 13, 18], info => new ReduceKernel(info, ReduceKind.Max));
        RegisterAll(registry, "ReduceMin", [1, 11, 12, 13, 18], info => new ReduceKernel(info, ReduceKind.Min));
        RegisterAll(registry, "ReduceProd", [1, 11, 13, 18], info => new ReduceKernel(info, ReduceKind.Prod));
        RegisterAll(registry, "ReduceSumSquare", [1, 11, 13, 18], info => new ReduceKernel(info, ReduceKind.SumSquare));
        RegisterAll(registry, "ReduceL2", [1, 11, 13, 18], info => new ReduceKernel(info, ReduceKind.L2));
        RegisterAll(registry, "ArgMax", [1, 11, 12, 13], info => new ArgReduceKernel(info, isMax: true));
        RegisterAll(registry, "ArgMin", [1, 11, 12, 13], info => new ArgReduceKernel(info, isMax: false));
        RegisterAll(registry, "Softmax", [1, 11, 13], info => new SoftmaxKernel(info, log: false));
        RegisterAll(registry, "LogSoftmax", [1, 11, 13], info => new SoftmaxKernel(info, log: true));
        RegisterAll(registry, "CumSum", [11, 14], info => new CumSumKernel(info));
        RegisterAll(registry, "TopK", [1, 10, 11], info => new TopKKernel(info));
    }

    private static void RegisterAll(KernelRegistry registry, string opType, int[] versions, KernelFactory factory)
    {
        foreach (int version in versions)
        {
            registry.Register(opType, version, factory);
        }
    }
}
