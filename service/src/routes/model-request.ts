/**
 * The HTTP side of finding a model: the core's findModel and splitModel, recorded on the Fastify
 * request (metrics labels, x-model-version) and reading the A/B subject from its headers.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import {
  findModel,
  MODEL_VERSION_HEADER,
  shadowTask,
  splitModel,
  type InferenceCore,
} from "../core/inference";
import type { FeatureColumns } from "../model/input";
import type { Prediction } from "../model/predictor";
import type { LoadedModel } from "../model/store";

declare module "fastify" {
  interface FastifyRequest {
    /** Model label for metrics: set once a request resolved to a loaded model. */
    metricModel: string;
    /** Version label for metrics: the version that answered (or was chosen to). */
    metricVersion: string;
    /** Work to run once the response has been sent (the shadow prediction), or null. */
    afterResponse: (() => void) | null;
  }
}

function answeredBy(request: FastifyRequest, reply: FastifyReply, m: LoadedModel): LoadedModel {
  request.metricModel = m.artifact.name;
  request.metricVersion = m.artifact.version;
  void reply.header(MODEL_VERSION_HEADER, m.artifact.version);
  return m;
}

/** findModel, recorded on the request (metrics labels, x-model-version). */
export function resolveModel(
  core: InferenceCore,
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
  version?: string,
): LoadedModel {
  return answeredBy(request, reply, findModel(core, name, version));
}

/** splitModel by the request's subject header, recorded on the request. */
export function routeModel(
  core: InferenceCore,
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
): LoadedModel {
  const header = request.headers[core.config.AB_SUBJECT_HEADER];
  const subject = Array.isArray(header) ? header.join(",") : header;
  return answeredBy(request, reply, splitModel(core, name, subject));
}

/** The core's shadowTask of an unversioned prediction, run once the response has been sent. */
export function queueShadow(
  core: InferenceCore,
  request: FastifyRequest,
  answered: LoadedModel,
  input: FeatureColumns,
  answer: Prediction,
): void {
  request.afterResponse = shadowTask(core, request.log, answered, input, answer);
}
