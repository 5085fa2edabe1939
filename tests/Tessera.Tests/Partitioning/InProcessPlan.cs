using Tessera.Cluster.Deployments;
using Tessera.Tensors;
using Tessera.Tests.Cluster;

namespace Tessera.Tests.Partitioning;

/// <summary>A plan folder deployed in this process (one session per stage), run synchronously: the tests' reference for distributed runs.</summary>
internal sealed class InProcessPlan : IDisposable
{
    private readonly Deployment _deployment;

    private InProcessPlan(Deployment deployment) => _deployment = deployment;

    public static InProcessPlan Load(string planPath) => new(TestDeployments.InProcess(planPath));

    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs) => _deployment.RunAsync(inputs).GetAwaiter().GetResult();

    public void Dispose() => _deployment.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
