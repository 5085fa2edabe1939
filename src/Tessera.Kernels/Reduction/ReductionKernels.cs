using Tessera.Kernels.Core;

namespace Tessera.Kernels.Reduction;

/// <summary>Registers the Reduction operator family.</summary>
public static class ReductionKernels
{
    public static void Register(KernelRegistry registry)
    {
        RegisterReduce(registry, "ReduceSum", ReduceKind.Sum, [1, 11, 13]);
        RegisterReduce(registry, "ReduceMean", ReduceKind.Mean, [1, 11, 13, 18]);
        RegisterReduce(registry, "ReduceMax", ReduceKind.Max, [1, 11, 12, 13, 18]);
        RegisterReduce(registry, "ReduceMin", ReduceKind.Min, [1, 11, 12, 13, 18]);
        RegisterReduce(registry, "ReduceProd", ReduceKind.Prod, [1, 11, 13, 18]);
        RegisterReduce(registry, "ReduceSumSquare", ReduceKind.SumSquare, [1, 11, 13, 18]);
        RegisterReduce(registry, "ReduceL2", ReduceKind.L2, [1, 11, 13, 18]);
    }

    private static void RegisterReduce(KernelRegistry registry, string opType, ReduceKind kind, int[] versions)
    {
        foreach (int version in versions)
        {
            registry.Register(opType, version, info => new ReduceKernel(info, kind));
        }
    }
}
