namespace Tessera.Tests.Cluster;

/// <summary>A test that slows a worker with a cgroup CPU quota: skipped with the reason where none can be made, never passed.</summary>
public sealed class CpuQuotaFactAttribute : FactAttribute
{
    public CpuQuotaFactAttribute()
    {
        if (CpuQuota.Reason() is { } reason)
        {
            Skip = reason;
        }
    }
}
