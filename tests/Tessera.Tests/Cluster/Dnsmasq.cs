using System.Diagnostics;

namespace Tessera.Tests.Cluster;

/// <summary>
/// Debian's dnsmasq answering from a hosts file only (no upstream, no /etc/hosts), on one address: several lines for
/// one name give several A records. It runs as root: the hosts file sits in the test's private (0700) folder. <see cref="SetHosts"/> rewrites the file and makes it re-read it (SIGHUP).
/// </summary>
internal sealed class Dnsmasq : IDisposable
{
    private readonly Process _process;
    private readonly string _hosts;

    /// <summary>Starts dnsmasq on <paramref name="listen"/>:53 answering <paramref name="name"/> with <paramref name="addresses"/>; returns once it listens.</summary>
    public Dnsmasq(string listen, string directory, string name, IEnumerable<string> addresses)
    {
        _hosts = Path.Combine(directory, "dns-hosts");
        WriteHosts(name, addresses); // before it starts: a SIGHUP before dnsmasq handles it would end it
        var info = new ProcessStartInfo("dnsmasq") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string a in new[] { "--keep-in-foreground", "--no-resolv", "--no-hosts", $"--addn-hosts={_hosts}", $"--listen-address={listen}", "--bind-interfaces", "--except-interface=lo", "--port=53", "--cache-size=0", "--local-ttl=0", "--pid-file=", "--user=root" })
        {
            info.ArgumentList.Add(a);
        }

        _process = Process.Start(info)!;
        // Listening once its UDP socket on port 53 (0035) shows in /proc/net/udp, address in little-endian hex.
        string bound = string.Concat(System.Net.IPAddress.Parse(listen).GetAddressBytes().Reverse().Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture))) + ":0035";
        var clock = Stopwatch.StartNew();
        while (!File.ReadAllText("/proc/net/udp").Contains(bound, StringComparison.Ordinal))
        {
            if (_process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new InvalidOperationException($"dnsmasq did not listen on {listen}:53: {(_process.HasExited ? _process.StandardError.ReadToEnd() : "timed out")}");
            }

            Thread.Sleep(20);
        }
    }

    /// <summary>Why dnsmasq cannot be used here, or null.</summary>
    public static string? Reason() => File.Exists("/usr/sbin/dnsmasq") ? null : "dnsmasq is not installed (conformance/prepare.sh installs Debian's dnsmasq-base)";

    /// <summary>Answers <paramref name="name"/> with these addresses from now on.</summary>
    public void SetHosts(string name, IEnumerable<string> addresses)
    {
        WriteHosts(name, addresses);
        using var hup = Process.Start("kill", ["-HUP", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        hup.WaitForExit();
    }

    private void WriteHosts(string name, IEnumerable<string> addresses) => File.WriteAllText(_hosts, string.Concat(addresses.Select(a => $"{a} {name}\n")));

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit(5000);
        _process.Dispose();
    }
}
