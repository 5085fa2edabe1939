using Tessera.Kernels.Core;

namespace Tessera.Kernels.Collective;

/// <summary>
/// Registers the collective operators of domain com.tessera, which tensor-parallel shards use to combine partial
/// results: AllReduce (element-wise sum over ranks) and AllGather (concatenation of the ranks' tensors along `axis`,
/// in rank order). Both carry a string attribute `key`, unique within the model, that pairs the calls of the ranks.
/// Their kernels need the session's communicator (<see cref="KernelInfo.Communicator"/>).
/// </summary>
public static class CollectiveKernels
{
    public const string AllReduce = "AllReduce";

    public const string AllGather = "AllGather";

    public static void Register(KernelRegistry registry)
    {
        registry.Register(TesseraDomain.Name, AllReduce, 1, AllReduceKernel.Create);
        registry.Register(TesseraDomain.Name, AllGather, 1, AllGatherKernel.Create);
    }

    internal static (ICollectiveCommunicator Communicator, string Key) Bind(KernelInfo info)
    {
        string key = info.GetString("key", string.Empty);
        if (key.Length == 0)
        {
            throw new KernelException($"{info.OpType} needs a non-empty string attribute 'key'");
        }

        var communicator = info.Communicator ?? throw new KernelException(
            $"{info.OpType} '{key}' needs a collective communicator: run the shard in a TensorParallelGroup or set SessionOptions.Communicator");
        return (communicator, key);
    }
}
