using System.Diagnostics;

namespace Tessera.Tests.Support;

/// <summary>Runs the real `tessera` executable (copied next to the tests) as a separate process.</summary>
internal static class CliProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args) => Run(new Dictionary<string, string>(), args);

    /// <summary>Runs with <paramref name="environment"/> added to this process's environment.</summary>
    public static Result Run(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment) info.Environment[name] = value;
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "tessera.dll"));
        foreach (string a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"tessera {string.Join(' ', args)} did not finish in 2 minutes");
        }

        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }
}
