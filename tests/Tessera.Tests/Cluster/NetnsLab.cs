using System.Diagnostics;

namespace Tessera.Tests.Cluster;

/// <summary>
/// Network namespaces joined by a bridge in the test's namespace, each with its own address on a random
/// 10.213.X.0/24: hosts as separate as one machine allows. Dispose deletes them.
/// </summary>
internal sealed class NetnsLab : IDisposable
{
    private readonly string _bridge;
    private readonly List<string> _namespaces = [];

    public NetnsLab(int count)
    {
        string tag = Guid.NewGuid().ToString("N")[..6];
        int subnet = Random.Shared.Next(1, 254);
        _bridge = "tsb" + tag;
        HostAddress = $"10.213.{subnet}.1";
        try
        {
            Ip($"link add {_bridge} type bridge");
            Ip($"addr add {HostAddress}/24 dev {_bridge}");
            Ip($"link set {_bridge} up");
            for (int i = 0; i < count; i++)
            {
                string ns = $"tsn{tag}{i}", host = $"tsh{tag}{i}", inner = $"tsi{tag}{i}";
                string address = $"10.213.{subnet}.{10 + i}";
                Ip($"netns add {ns}");
                _namespaces.Add(ns);
                Ip($"link add {host} type veth peer name {inner}");
                Ip($"link set {host} master {_bridge}");
                Ip($"link set {host} up");
                Ip($"link set {inner} netns {ns}");
                Ip($"-n {ns} addr add {address}/24 dev {inner}");
                Ip($"-n {ns} link set {inner} up");
                Ip($"-n {ns} link set lo up");
                Addresses.Add(address);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string HostAddress { get; }

    /// <summary>The address of each namespace (index = namespace).</summary>
    public List<string> Addresses { get; } = [];

    public string[] Prefix(int i) => ["ip", "netns", "exec", _namespaces[i]];

    /// <summary>
    /// Makes processes run in namespace <paramref name="i"/> (with <see cref="Prefix"/>) resolve names with the DNS
    /// server at <paramref name="nameserver"/>: `ip netns exec` mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf.
    /// </summary>
    public void UseNameserver(int i, string nameserver)
    {
        string folder = Path.Combine("/etc/netns", _namespaces[i]);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "resolv.conf"), $"nameserver {nameserver}\noptions timeout:1 attempts:2\n");
    }

    private static void Ip(string arguments)
    {
        using var p = Process.Start(new ProcessStartInfo("ip", arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {arguments}: {error.Trim()}");
        }
    }

    public void Dispose()
    {
        foreach (string ns in _namespaces)
        {
            try { Ip($"netns del {ns}"); } catch (InvalidOperationException) { }
            if (Directory.Exists(Path.Combine("/etc/netns", ns))) Directory.Delete(Path.Combine("/etc/netns", ns), recursive: true);
        }

        try { Ip($"link del {_bridge}"); } catch (InvalidOperationException) { }
    }
}
