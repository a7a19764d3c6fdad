namespace Drawbridge.Server.Identity;

internal static class DrawbridgeClaims
{
    public const string MachineResourceGroup = "drawbridge:machine-rg";
    public const string MachineName = "drawbridge:machine-name";
}
