using AspireLlm.DeployGenerator;

// deploy-generator --manifest <aspire-manifest.json> --settings <settings.json> --output <deploy dir>
var options = args.Chunk(2).Where(pair => pair.Length == 2).ToDictionary(pair => pair[0].TrimStart('-'), pair => pair[1]);
if (!options.TryGetValue("manifest", out var manifestPath) || !options.TryGetValue("settings", out var settingsPath)
    || !options.TryGetValue("output", out var output))
{
    Console.Error.WriteLine("usage: DeployGenerator --manifest <aspire-manifest.json> --settings <settings.json> --output <dir>");
    return 2;
}

var files = Generator.Generate(
    AspireManifest.Parse(await File.ReadAllTextAsync(manifestPath)),
    DeploySettings.Parse(await File.ReadAllTextAsync(settingsPath)));

// The generated directories are ours entirely: clear them so a file no longer generated does not linger.
foreach (var directory in files.Keys.Select(path => path.Split('/')[0]).Distinct())
{
    var full = Path.Combine(output, directory);
    if (Directory.Exists(full))
    {
        foreach (var file in Directory.EnumerateFiles(full, "*.yaml", SearchOption.AllDirectories))
        {
            File.Delete(file);
        }
    }
}

foreach (var (path, content) in files)
{
    var full = Path.Combine(output, path);
    Directory.CreateDirectory(Path.GetDirectoryName(full)!);
    await File.WriteAllTextAsync(full, content);
    Console.WriteLine($"wrote {full}");
}

return 0;
