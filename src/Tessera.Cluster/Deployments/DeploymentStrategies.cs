namespace Tessera.Cluster.Deployments;

/// <summary>The names of the strategies, as `--strategy` and a served model's "strategy" spell them.</summary>
public static class DeploymentStrategies
{
    public static DeploymentStrategy Parse(string? name) => name switch
    {
        "data" => DeploymentStrategy.Data,
        "pipeline" => DeploymentStrategy.Pipeline,
        "tensor" => DeploymentStrategy.Tensor,
        "auto" => DeploymentStrategy.Auto,
        _ => throw new ArgumentException($"strategy must be \"data\", \"pipeline\", \"tensor\" or \"auto\", not \"{name}\""),
    };
}
