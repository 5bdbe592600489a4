/** A price table of round numbers, so each cost a test expects can be worked out by hand (and a
 * refreshed infra/azure/price-table.json changes no expectation). */
import { checkPriceTable } from "../../infra/azure/prices";

export const TEST_PRICE_TABLE = checkPriceTable({
  takenOn: "2026-01-02",
  source: "a test table",
  retrievedBy: "api",
  currency: "USD",
  hoursPerMonth: 730,
  vmSizes: {
    Standard_D4s_v5: { vCpus: 4, memoryGiB: 16 },
    Standard_D8s_v5: { vCpus: 8, memoryGiB: 32 },
    Standard_D16s_v5: { vCpus: 16, memoryGiB: 64 },
  },
  regions: {
    westeurope: {
      vmHourly: { Standard_D4s_v5: 0.2, Standard_D8s_v5: 0.5, Standard_D16s_v5: 1 },
      aksTierHourly: { Free: 0, Standard: 0.1, Premium: 0.6 },
      publicIpv4StaticHourly: 0.01,
      prometheusIngestionPer10MSamples: 0.2,
    },
  },
});
