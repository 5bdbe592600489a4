/**
 * The real engine against a real cluster: the `local` stack's config as stack `e2e`, through the
 * Automation API, on the suite's own cluster with real nodes (kubelet + containerd: containers
 * run, probes are probed, kube-proxy routes the Service). Traffic goes to the Service's node port
 * on 127.0.0.1 only, bounded in count and time. Tests run in order: each builds on the state the
 * previous one left (one stack, one cluster), and afterAll always destroys what is left.
 *
 * One file, so one stack and one order (jest runs test files in an order of its own): the
 * fixture (platform/fixture.ts) holds the stack and what the blocks hand on to each other, and
 * registers the beforeAll and afterAll; each capability's module under platform/ registers its
 * describe block, in the order of {@link SEQUENCE}.
 */
import * as auth from "./platform/auth";
import * as changes from "./platform/changes";
import * as credentials from "./platform/credentials";
import * as deploy from "./platform/deploy";
import * as destroy from "./platform/destroy";
import * as edge from "./platform/edge";
import { platformFixture, type PlatformFixture } from "./platform/fixture";
import * as monitoring from "./platform/monitoring";
import * as policy from "./platform/policy";
import * as promotion from "./platform/promotion";
import * as releases from "./platform/releases";
import * as serving from "./platform/serving";
import * as training from "./platform/training";

/** The blocks in the order they run: each starts from the state the one before left. */
const SEQUENCE: readonly { register(platform: PlatformFixture): void }[] = [
  deploy,
  auth,
  serving,
  edge,
  monitoring,
  changes,
  releases,
  training,
  policy,
  promotion,
  credentials,
  destroy,
];

const platform = platformFixture();
for (const block of SEQUENCE) block.register(platform);
