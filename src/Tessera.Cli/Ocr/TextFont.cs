using System.Diagnostics;
using Tessera.Cli.Common;

namespace Tessera.Cli.Ocr;

/// <summary>
/// The font the demo draws its pages with: one that covers Chinese as well as Latin. Debian's fonts-wqy-zenhei
/// (installed with apt-get on first use when run as root, as the models are installed with npm) or Noto CJK.
/// </summary>
internal static class TextFont
{
    private const string Package = "fonts-wqy-zenhei";

    private static readonly string[] Known =
    [
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    ];

    /// <summary>The given font file, or a known CJK font, installing <c>fonts-wqy-zenhei</c> when none is there.</summary>
    public static string Find(string? file)
    {
        if (file is not null)
        {
            return File.Exists(file) ? file : throw new CliException($"{file}: no such font file");
        }

        if (Known.FirstOrDefault(File.Exists) is { } found) return found;
        if (Environment.UserName != "root")
        {
            throw new CliException($"no Chinese font found to draw the pages with: install one with `sudo apt-get install {Package}`, or pass --font FILE");
        }

        Console.WriteLine($"installing {Package} with apt-get ...");
        if (AptGet("install", "-y", "-qq", "--no-install-recommends", Package) is not null)
        {
            // A fresh machine's package lists may not name it yet.
            AptGet("update", "-qq");
            if (AptGet("install", "-y", "-qq", "--no-install-recommends", Package) is { } error)
            {
                throw new CliException($"apt-get install {Package} failed ({error}); install a Chinese font, or pass --font FILE", 1);
            }
        }

        return Known.FirstOrDefault(File.Exists) ?? throw new CliException($"{Package} is installed but {Known[0]} is not there; pass --font FILE", 1);
    }

    /// <summary>Runs apt-get quietly; null when it succeeded, else the last line it wrote on stderr.</summary>
    private static string? AptGet(params string[] args)
    {
        var info = new ProcessStartInfo("apt-get") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        foreach (string a in args) info.ArgumentList.Add(a);
        try
        {
            using var apt = Process.Start(info)!;
            var stderr = apt.StandardError.ReadToEndAsync();
            apt.StandardOutput.ReadToEnd();
            apt.WaitForExit();
            string last = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? $"exit {apt.ExitCode}";
            return apt.ExitCode == 0 ? null : last;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new CliException($"apt-get is not here to install {Package}; install a Chinese font, or pass --font FILE", 1);
        }
    }
}
