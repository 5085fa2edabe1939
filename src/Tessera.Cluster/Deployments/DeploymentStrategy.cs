namespace Tessera.Cluster.Deployments;

/// <summary>How a deployment uses its workers (`--strategy`, a served model's "strategy").</summary>
public enum DeploymentStrategy
{
    /// <summary>The whole model on every worker: one replica per worker, a batch split between them.</summary>
    Data = 0,

    /// <summary>One pipeline through all the workers, cut by the planner.</summary>
    Pipeline = 1,

    /// <summary>One tensor-parallel group over the workers (degree: all of them unless given).</summary>
    Tensor = 2,

    /// <summary>The planner's choice among single, data, pipeline and hybrid (no tensor parallelism: its sums differ in order).</summary>
    Auto = 3,
}
