/** The monitoring the program deploys, per target, under mocks (both branches of each option). */
import { parseConfig } from "../../../infra/config";
import { stackRuleGroups } from "../../../infra/monitoring/files";
import { azurePrometheusRules } from "../../../infra/monitoring/rules";
import {
  expandConfigGroups,
  findResource,
  RecordedResource,
  MOCK_SUBSCRIPTION_ID,
  runProgram,
  StackName,
  stackConfig,
} from "../../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const runs = new Map<string, RecordedResource[]>();
async function run(stack: StackName, monitoring?: Obj) {
  const key = `${stack}:${JSON.stringify(monitoring)}`;
  if (!runs.has(key)) {
    const overrides = monitoring === undefined ? {} : { monitoring };
    runs.set(key, expandConfigGroups(await runProgram(stack, overrides)));
  }
  return runs.get(key)!;
}

const T = {
  cluster: "azure-native:containerservice:ManagedCluster",
  workspace: "azure-native:monitor:AzureMonitorWorkspace",
  dce: "azure-native:monitor:DataCollectionEndpoint",
  dcr: "azure-native:monitor:DataCollectionRule",
  dcra: "azure-native:monitor:DataCollectionRuleAssociation",
  ruleGroup: "azure-native:alertsmanagement:PrometheusRuleGroup",
  grafana: "azure-native:dashboard:Grafana",
  roleAssignment: "azure-native:authorization:RoleAssignment",
  component: "mlops:azure:ManagedPrometheus",
};
const kinds = (resources: RecordedResource[]) =>
  resources
    .filter((r) => r.type.startsWith("kubernetes:") && r.inputs.kind)
    .map((r) => `${r.inputs.apiVersion} ${r.inputs.kind}/${r.name}`);
const ofType = (resources: RecordedResource[], type: string) =>
  resources.filter((r) => r.type === type);

describe("azure (dev): managed Prometheus by default", () => {
  test("the cluster runs the metrics add-on", async () => {
    const cluster = findResource(await run("dev"), T.cluster).inputs;
    expect(cluster.azureMonitorProfile).toEqual({
      metrics: {
        enabled: true,
        kubeStateMetrics: { metricLabelsAllowlist: "", metricAnnotationsAllowList: "" },
      },
    });
  });

  test("workspace, collection endpoint, rule and association route the cluster's metrics into it", async () => {
    const resources = await run("dev");
    const workspace = findResource(resources, T.workspace, "mlops-monitoring-workspace");
    expect(workspace.inputs).toMatchObject({
      location: "westeurope",
      tags: { environment: "dev", owner: "platform-team", costCenter: "ml-platform" },
    });
    const dce = findResource(resources, T.dce, "mlops-monitoring-dce");
    expect(dce.inputs.kind).toBe("Linux");
    const dcr = findResource(resources, T.dcr, "mlops-monitoring-dcr").inputs;
    expect(dcr).toMatchObject({
      kind: "Linux",
      dataCollectionEndpointId: "mlops-monitoring-dce-id",
      dataSources: {
        prometheusForwarder: [
          {
            name: "PrometheusDataSource",
            streams: ["Microsoft-PrometheusMetrics"],
            labelIncludeFilter: {},
          },
        ],
      },
      destinations: {
        monitoringAccounts: [
          { name: "MonitoringAccount1", accountResourceId: "mlops-monitoring-workspace-id" },
        ],
      },
      dataFlows: [
        { streams: ["Microsoft-PrometheusMetrics"], destinations: ["MonitoringAccount1"] },
      ],
    });
    const dcra = findResource(resources, T.dcra, "mlops-monitoring-dcra").inputs;
    expect(dcra.resourceUri).toBe("mlops-cluster-aks-id");
    expect(dcra.dataCollectionRuleId).toBe("mlops-monitoring-dcr-id");
  });

  test("the same rules as Azure Prometheus rule groups, scoped to the workspace and the cluster", async () => {
    const resources = await run("dev");
    // Registered as their outputs resolve: order by name.
    const groups = ofType(resources, T.ruleGroup).sort((a, b) => a.name.localeCompare(b.name));
    expect(groups.map((g) => g.name)).toEqual([
      "mlops-monitoring-mlops-inference",
      "mlops-monitoring-mlops-inference-slo",
      "mlops-monitoring-mlops-training",
    ]);
    const expected = stackRuleGroups(parseConfig(stackConfig("dev"))).sort((a, b) =>
      a.name.localeCompare(b.name),
    );
    groups.forEach((g, i) => {
      expect(g.inputs).toMatchObject({
        ruleGroupName: expected[i].name,
        scopes: ["mlops-monitoring-workspace-id", "mlops-cluster-aks-id"],
        clusterName: "mlops-cluster-aks",
        enabled: true,
        interval: "PT1M",
        location: "westeurope",
      });
      expect(g.inputs.rules).toEqual(azurePrometheusRules(expected[i]));
    });
    expect(groups[0].inputs.rules.map((r: Obj) => r.alert)).toContain("InferenceFeatureDrift");
  });

  test("no Grafana unless asked; the pods get an azmonitoring PodMonitor and no PrometheusRule", async () => {
    const resources = await run("dev");
    expect(ofType(resources, T.grafana)).toEqual([]);
    const monitoring = kinds(resources).filter((k) => /coreos|ConfigMap/.test(k));
    expect(monitoring).toEqual(["azmonitoring.coreos.com/v1 PodMonitor/inference"]);
    // Managed Prometheus scrapes from kube-system: the NetworkPolicy admits it.
    const np = resources.find(
      (r) => r.inputs.kind === "NetworkPolicy" && r.name === "inference",
    )!.inputs;
    expect(np.spec.ingress[1].from[0].namespaceSelector.matchLabels).toEqual({
      "kubernetes.io/metadata.name": "kube-system",
    });
  });

  test("prod too (its weekly schedule: the staleness bound is 170 h)", async () => {
    const resources = await run("prod");
    const training = findResource(resources, T.ruleGroup, "mlops-monitoring-mlops-training");
    const stale = training.inputs.rules.find((r: Obj) => r.alert === "TrainingRunTooOld");
    expect(stale.expression).toContain("> 612000");
  });
});

describe("azure options", () => {
  const actionGroupId =
    "/subscriptions/sub-id/resourceGroups/ops/providers/microsoft.insights/actionGroups/oncall";

  test("grafana: an Azure Managed Grafana integrated with the workspace, reading it with its identity", async () => {
    const resources = await run("dev", { grafana: true });
    const grafana = findResource(resources, T.grafana, "mlops-monitoring-grafana").inputs;
    expect(grafana).toMatchObject({
      workspaceName: expect.stringMatching(/^mlopsmonitoring[0-9a-f]{8}$/),
      sku: { name: "Standard" },
      identity: { type: "SystemAssigned" },
      properties: {
        apiKey: "Disabled",
        grafanaIntegrations: {
          azureMonitorWorkspaceIntegrations: [
            { azureMonitorWorkspaceResourceId: "mlops-monitoring-workspace-id" },
          ],
        },
      },
    });
    const reader = findResource(resources, T.roleAssignment, "mlops-monitoring-grafana-reader");
    expect(reader.inputs).toMatchObject({
      principalType: "ServicePrincipal",
      scope: "mlops-monitoring-workspace-id",
      roleDefinitionId: `/subscriptions/${MOCK_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/b0d8363b-8ddd-447d-831f-62ca05bff136`,
    });
  });

  test("actionGroupId: every alert notifies it; recording rules have no action", async () => {
    const resources = await run("dev", { actionGroupId });
    const rules = ofType(resources, T.ruleGroup).flatMap((g) => g.inputs.rules as Obj[]);
    const alerts = rules.filter((r) => r.alert);
    const records = rules.filter((r) => r.record);
    expect([alerts.length > 0, records.length > 0]).toEqual([true, true]);
    expect(alerts.length + records.length).toBe(rules.length);
    expect(alerts.map((r) => [r.alert, r.actions])).toEqual(
      alerts.map((r) => [r.alert, [{ actionGroupId }]]),
    );
    expect(records.map((r) => [r.record, r.actions])).toEqual(
      records.map((r) => [r.record, undefined]),
    );
  });

  test("scraper none: no add-on, no workspace, no rule group, no PodMonitor", async () => {
    const resources = await run("dev", { scraper: "none" });
    expect(findResource(resources, T.cluster).inputs.azureMonitorProfile).toBeUndefined();
    for (const type of [T.component, T.workspace, T.dce, T.dcr, T.dcra, T.ruleGroup]) {
      expect(ofType(resources, type)).toEqual([]);
    }
    expect(kinds(resources).filter((k) => k.includes("PodMonitor"))).toEqual([]);
  });
});

describe("local", () => {
  test("by default nothing needs a monitoring CRD (a plain cluster has none)", async () => {
    expect(kinds(await run("local")).filter((k) => k.includes("coreos"))).toEqual([]);
  });

  test("prometheus-operator: PodMonitor, PrometheusRule and the dashboard ConfigMap in the app's ConfigGroup", async () => {
    const resources = await run("local", { scraper: "prometheus-operator" });
    expect(kinds(resources).filter((k) => /coreos|ConfigMap/.test(k))).toEqual([
      "monitoring.coreos.com/v1 PodMonitor/inference",
      "monitoring.coreos.com/v1 PrometheusRule/inference",
      "v1 ConfigMap/inference-dashboard",
    ]);
    expect(resources.filter((r) => r.type.startsWith("azure-native:"))).toEqual([]);
  });
});
