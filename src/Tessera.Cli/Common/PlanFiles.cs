using Tessera.Partitioning;
using Tessera.Partitioning.Planning;
using Tessera.Partitioning.Plans;

namespace Tessera.Cli.Common;

/// <summary>A plan.json and the cluster file it runs on, read together; their problems become one-line CLI errors.</summary>
internal static class PlanFiles
{
    /// <summary>The nodes of a cluster file (addresses may be <c>dns:NAME:PORT</c>).</summary>
    public static IReadOnlyList<ClusterNode> ClusterNodes(string clusterPath)
    {
        try
        {
            return ClusterDescription.Load(clusterPath).Nodes;
        }
        catch (PartitionException e)
        {
            throw new CliException(e.Message);
        }
    }

    public static (PlanDocument Plan, ClusterDescription Cluster) Load(string planPath, string clusterPath)
    {
        try
        {
            return (PlanReader.Load(planPath), ClusterDescription.Load(clusterPath));
        }
        catch (PartitionException e)
        {
            throw new CliException(e.Message);
        }
    }
}
