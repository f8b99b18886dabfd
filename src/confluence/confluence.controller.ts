import { Controller, Get, Header, Query, Res } from '@nestjs/common';
import { ConnectAuth, ConnectContext, type ConnectRequestContext } from 'atlassian-connect-nest';
import { ProductRoutesController, type HeaderSettable } from '../common/product-routes.controller.js';

/** Routes of the Confluence app, under its baseUrl path `/confluence`. */
@Controller('confluence')
export class ConfluenceController extends ProductRoutesController {
  /** The static content macro: Confluence fetches it server-side with a request-bound token. */
  @Get('macros/hello')
  @ConnectAuth()
  @Header('content-type', 'text/html; charset=utf-8')
  macro(@ConnectContext() context: ConnectRequestContext, @Query('pageId') pageId: string | undefined, @Res({ passthrough: true }) response: HeaderSettable) {
    return this.macroPage(context, pageId, response);
  }
}
