import { Controller } from '@nestjs/common';
import { ProductRoutesController } from '../common/product-routes.controller.js';

/** Routes of the Jira app, under its baseUrl path `/jira`. */
@Controller('jira')
export class JiraController extends ProductRoutesController {}
